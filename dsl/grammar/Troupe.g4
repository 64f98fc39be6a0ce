// troupe workflow language (.wf), v1.
//
// The grammar is deliberately small and regular: every block is a list of
// `name: value` properties or `name { ... }` nested blocks, so new properties
// never need grammar changes. Meaning (which property belongs where, types,
// names) is assigned after parsing, in build_ir() and check(), where errors
// can say exactly what was expected. Strings are single tokens; `{{ expr }}`
// interpolations inside them are parsed by a second pass through the `exprOnly`
// entry rule, so the lexer stays context free.
grammar Troupe;

file        : item* EOF ;
item        : importDecl | modelDecl | routerDecl | workflowDecl ;

importDecl  : IMPORT REGISTRY? str ;
modelDecl   : MODEL IDENT block ;
routerDecl  : ROUTER block ;
workflowDecl: WORKFLOW IDENT '{' member* '}' ;

member      : inputDecl | outputDecl | stepDecl | routerDecl ;
inputDecl   : INPUT IDENT ':' typeRef ('=' expr)? ;
outputDecl  : OUTPUT IDENT ':' typeRef '=' expr ;
stepDecl    : stepKind IDENT forClause? block ;
stepKind    : LLM | TOOL | PLAN | CALL ;
forClause   : FOR IDENT IN expr ;

typeRef     : IDENT ('<' typeRef '>')? ;

block       : '{' entry* '}' ;
entry       : propName ':' value ','?      # valueEntry
            | propName block ','?          # blockEntry
            | propName ','?                # flagEntry
            ;
propName    : IDENT | MODEL | INPUT | OUTPUT | TOOL | PLAN | CALL | LLM
            | ROUTER | WORKFLOW | REGISTRY | IMPORT ;
value       : expr                         # plainValue
            | expr '..' expr               # rangeValue
            | expr OF expr                 # agreeValue
            ;

exprOnly    : expr EOF ;

expr        : expr '.' IDENT                                   # fieldExpr
            | expr '[' expr ']'                                # indexExpr
            | '-' expr                                         # negExpr
            | expr op=('*' | '/') expr                         # mulExpr
            | expr op=('+' | '-') expr                         # addExpr
            | expr op=('==' | '!=' | '<' | '<=' | '>' | '>=') expr # cmpExpr
            | NOT expr                                         # notExpr
            | expr AND expr                                    # andExpr
            | expr OR expr                                     # orExpr
            | <assoc=right> expr '??' expr                     # coalesceExpr
            | IDENT '(' (arg (',' arg)* ','?)? ')'             # callExpr
            | '[' (expr (',' expr)* ','?)? ']'                 # listExpr
            | '(' expr ')'                                     # parenExpr
            | NUMBER                                           # numberExpr
            | DURATION                                         # durationExpr
            | str                                              # stringExpr
            | (KW_TRUE | KW_FALSE)                                   # boolExpr
            | KW_NULL                                             # nullExpr
            | IDENT                                            # nameExpr
            ;
arg         : (propName ':')? expr ;
str         : STRING | SQ_STRING | TRIPLE_STRING ;

IMPORT   : 'import' ;
REGISTRY : 'registry' ;
MODEL    : 'model' ;
ROUTER   : 'router' ;
WORKFLOW : 'workflow' ;
INPUT    : 'input' ;
OUTPUT   : 'output' ;
LLM      : 'llm' ;
TOOL     : 'tool' ;
PLAN     : 'plan' ;
CALL     : 'call' ;
FOR      : 'for' ;
IN       : 'in' ;
OF       : 'of' ;
AND      : 'and' ;
OR       : 'or' ;
NOT      : 'not' ;
KW_TRUE     : 'true' ;
KW_FALSE    : 'false' ;
KW_NULL     : 'null' ;

DURATION : DIGITS ('.' DIGITS)? ('ms' | 's' | 'm' | 'h') ;
NUMBER   : DIGITS ('.' DIGITS)? ([eE] [+-]? DIGITS)? ;
IDENT    : [a-zA-Z_] [a-zA-Z_0-9]* ;

TRIPLE_STRING : '"""' .*? '"""' ;
STRING        : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '"' ;
SQ_STRING     : '\'' ( '\\' ~[\r\n] | ~['\\\r\n] )* '\'' ;

COMMENT  : '#' ~[\r\n]* -> channel(HIDDEN) ;
WS       : [ \t\r\n\u000C]+ -> skip ;

// Error tokens: never used by the parser; the front end turns them into
// precise lexical diagnostics before parsing.
UNTERMINATED_STRING : ( '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* | '\'' ( '\\' ~[\r\n] | ~['\\\r\n] )* ) ;
BAD_CHAR : . ;

fragment DIGITS : [0-9]+ ;
