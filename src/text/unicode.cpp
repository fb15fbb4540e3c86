#include "longctx/text/unicode.h"

namespace longctx::text::detail {

// Defines kStage1 and kStage2 (declared in the header); generated into the build tree.
#include "unicode_tables.inc"

}  // namespace longctx::text::detail
