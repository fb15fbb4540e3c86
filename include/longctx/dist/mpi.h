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
  // Ends every rank of the job now (MPI_Abort; mpirun then stops the others and exits non-zero),
  // for a failure on one rank that the others cannot learn of: they would wait in their next
  // collective for ever. Without MPI, exits the process with `code`.
  [[noreturn]] void abort_all(int code) const;
  // Element-wise sums over all ranks, in place (no-ops when MPI is not active).
  void allreduce_sum(float* data, uint64_t n) const;
  void allreduce_sum(double* data, uint64_t n) const;

  // Shards of a flat buffer of n elements (ZeRO-1): rank r owns [shard_begin(n, r),
  // shard_begin(n, r + 1)), contiguous, in rank order, as even as n allows. Collectives below
  // take n up to 2^31 - 1 (MPI's counts and displacements are ints) and throw Error beyond.
  uint64_t shard_begin(uint64_t n, int rank) const { return n * static_cast<uint64_t>(rank) / static_cast<uint64_t>(size_); }
  // out (this rank's shard size) = the element-wise sum over ranks of this rank's shard of data.
  void reduce_scatter_sum(const float* data, uint64_t n, float* out) const;
  // data's shards, each rank's own in place, to every rank.
  void allgather_shards(float* data, uint64_t n) const;
  // Rank 0's out (end - begin elements) receives elements [begin, end) of the sharded buffer of n
  // elements, each rank sending the part in its shard from `mine` (its shard's elements; the whole
  // buffer without MPI). Other ranks' out is unused. For writing sharded state a piece at a time.
  void gather_range(const float* mine, uint64_t n, uint64_t begin, uint64_t end, float* out) const;

 private:
  bool active_ = false;
  int rank_ = 0, size_ = 1;
};

// True when the environment says an MPI launcher started this process with more than one rank.
bool launched_by_mpirun();

}  // namespace longctx::dist
