#include "longctx/dist/mpi.h"

#include <mpi.h>

#include <algorithm>
#include <cstdlib>

namespace longctx::dist {

bool launched_by_mpirun() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* v = std::getenv(var);
    if (v && std::atoi(v) > 1) return true;
  }
  return false;
}

MpiSession::MpiSession() {
  if (!launched_by_mpirun()) return;
  MPI_Init(nullptr, nullptr);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  active_ = true;
}

MpiSession::~MpiSession() {
  if (active_) MPI_Finalize();
}

bool MpiSession::all(bool mine) const {
  if (!active_) return mine;
  int in = mine ? 1 : 0, out = 0;
  MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return out == 1;
}

void MpiSession::barrier() const {
  if (active_) MPI_Barrier(MPI_COMM_WORLD);
}

void MpiSession::allreduce_sum(float* data, uint64_t n) const {
  if (!active_) return;
  for (uint64_t a = 0; a < n; a += uint64_t{1} << 28) {  // MPI counts are ints
    const int c = static_cast<int>(std::min<uint64_t>(n - a, uint64_t{1} << 28));
    MPI_Allreduce(MPI_IN_PLACE, data + a, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  }
}

void MpiSession::allreduce_sum(double* data, uint64_t n) const {
  if (!active_) return;
  MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

}  // namespace longctx::dist
