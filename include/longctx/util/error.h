// Errors a user can cause. One line, naming the file and line or offset, what was expected and what
// was found; the CLI prints it and exits non-zero. Programmer errors are assertions, not Errors.
#pragma once

#include <stdexcept>
#include <string>

namespace longctx {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace longctx
