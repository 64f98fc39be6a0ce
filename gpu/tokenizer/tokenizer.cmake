# Tokenizers (SentencePiece-style and GPT-2 BPE) and chat templates.
# PCRE2 runs the GPT-2 pre-tokenizer pattern (Unicode classes, lookahead).
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
target_sources(troupe_gpu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/bpe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bpe.hpp
  ${CMAKE_CURRENT_LIST_DIR}/chat_template.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chat_template.hpp
  ${CMAKE_CURRENT_LIST_DIR}/spm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.hpp
  ${CMAKE_CURRENT_LIST_DIR}/vocab.hpp)
target_link_libraries(troupe_gpu PRIVATE PkgConfig::PCRE2)
