#include "dsl/source.hpp"

#include <fstream>
#include <sstream>

namespace troupe::dsl {

std::string_view source_file::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts.size())
    return {};
  size_t begin = line_starts[line - 1];
  size_t end = line < line_starts.size() ? line_starts[line] : text.size();
  while (end > begin && (text[end - 1] == '\n' || text[end - 1] == '\r'))
    --end;
  return std::string_view(text).substr(begin, end - begin);
}

uint32_t source_manager::add(std::string path, std::string display,
                             std::string text) {
  auto f = std::make_unique<source_file>();
  f->path = std::move(path);
  f->display = std::move(display);
  f->text = std::move(text);
  f->line_starts.push_back(0);
  for (size_t i = 0; i < f->text.size(); ++i)
    if (f->text[i] == '\n')
      f->line_starts.push_back(i + 1);
  files_.push_back(std::move(f));
  return static_cast<uint32_t>(files_.size() - 1);
}

int64_t source_manager::find(const std::string& path) const {
  for (size_t i = 0; i < files_.size(); ++i)
    if (files_[i]->path == path)
      return static_cast<int64_t>(i);
  return -1;
}

bool read_file(const std::string& path, std::string& out) {
  out.clear();
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return false;
  out = ss.str();
  return true;
}

} // namespace troupe::dsl
