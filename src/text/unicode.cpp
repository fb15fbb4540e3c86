#include "longctx/text/unicode.h"

namespace longctx::text::detail {

// Defines kStage1/kStage2 and kGc1/kGc2 (declared in the header); generated into the build tree.
#include "unicode_tables.inc"

}  // namespace longctx::text::detail
