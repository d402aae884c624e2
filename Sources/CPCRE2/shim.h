// The 8-bit (UTF-8) PCRE2 API for TocsinExpressions' `CompiledRegex`.
#ifndef TOCSIN_CPCRE2_SHIM_H
#define TOCSIN_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
