// Who this process is in a run split over processes. Under mpirun (OpenMPI) the rank and size come
// from MPI, which is initialised only then: a plain run never touches MPI (OpenMPI's singleton
// start is slow and refuses some containers).
#pragma once

#include <cstdint>

namespace longctx::dist {

class MpiSession {
 public:
  MpiSession();  // initialises MPI when launched by mpirun with more than one rank
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  bool active() const { return active_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  // True when every rank passes true. A collective: every rank must call it.
  bool all(bool mine) const;
  void barrier() const;
  // Element-wise sums over all ranks, in place (no-ops when MPI is not active).
  void allreduce_sum(float* data, uint64_t n) const;
  void allreduce_sum(double* data, uint64_t n) const;

 private:
  bool active_ = false;
  int rank_ = 0, size_ = 1;
};

// True when the environment says an MPI launcher started this process with more than one rank.
bool launched_by_mpirun();

}  // namespace longctx::dist
