// Runs the independent per-frame work of one batch (sealing, opening) on several cores. Each frame of a batch has
// its own counter, nonce and buffer, so frames seal and open in any order; a tensor cut into many frames then
// crosses at a multiple of one core's cipher rate.
//
// The helpers are plain threads that block between batches. OpenMP's (and OpenBLAS's) idle workers spin instead,
// and a co-located host and enclave take turns on the same few cores: a spinning helper in one process steals the
// core the other one is waiting for. For the same reason the pool is sized apart from a process's compute threads
// (runtime/compute_threads.h): the cipher runs while the other side of a call waits, so its cores are free, and an
// idle helper costs nothing.
#pragma once

#include <cstddef>
#include <functional>

namespace sg::crypto {

// How many threads a batch uses (the caller's included); 1 = serial. Defaults to the cores this process may run
// on, at most 8 (beyond that a batch of a few frames gains nothing).
void set_cipher_threads(int threads);
[[nodiscard]] int cipher_threads();

// Calls body(i) once for each i in [0, count), on up to cipher_threads() threads; returns when all are done.
// `body` must not throw (the batch's bodies here are libsodium calls and copies into buffers already sized).
// Batches from several caller threads at once are safe (one of them runs serially); if helper threads cannot
// be started, the batch runs serially.
void for_each_frame(std::size_t count, const std::function<void(std::size_t)>& body);

}  // namespace sg::crypto
