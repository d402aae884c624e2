// Header-only target (include/MemoryHints.h); SwiftPM needs one source file to build it.
#include "MemoryHints.h"
