// The parts of the extension module, one file each (module.cpp: tokenizer and store; packed.cpp:
// packed outputs; cli.cpp: the pipeline commands).
#pragma once

#include <pybind11/pybind11.h>

namespace longctx::python {

void bind_packed(pybind11::module_& m);
void bind_cli(pybind11::module_& m);

}  // namespace longctx::python
