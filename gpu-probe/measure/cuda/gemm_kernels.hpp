#pragma once
// Inputs for an exactly checkable GEMM. In cuBLAS's column-major terms, C (m x n) = A (m x k) * B (k x n) with
//   A[i,l] = a(i,l) in {-2,-1,1,2}  (a seeded hash: full rank, every tensor-core lane sees varied operands)
//   B[l,j] = t(l) * b(j), t and b in {-2,-1,1,2}
// so C[i,j] = b(j) * r(i) with r(i) = sum_l a(i,l) t(l). Every product (|.| <= 8) and every partial sum
// (|.| <= 8k = 65536 for k = 8192) is an integer far below 2^24, exact in BF16/FP16/TF32 inputs and the FP32
// accumulator in any summation order, so a correct GPU matches bit for bit and any difference is a fault.
// r is computed separately with integer arithmetic on the CUDA cores, from the hash, not from A.
#include <cuda_runtime.h>

#include <cstdint>

namespace fleet::gpuprobe::cuda {

enum class GemmInput { kBf16, kFp16, kFp32 };  // element type of A and B (TF32 and FP32 both store FP32)

struct GemmCheckCounters {
  unsigned long long mismatches;
  unsigned long long first_index;  // smallest column-major index seen wrong; ~0 when none
};

cudaError_t launch_fill_gemm_inputs(GemmInput type, void* a, void* b, int m, int n, int k, std::uint32_t seed,
                                    cudaStream_t s);
// r (m ints) for the seed; computed once per GEMM shape.
cudaError_t launch_row_reference(int* r, int m, int k, std::uint32_t seed, cudaStream_t s);
// Compares C (FP32, column-major, ldc = m) with b(j) * r(i); accumulates into counters.
cudaError_t launch_check_gemm(const float* c, const int* r, int m, int n, std::uint32_t seed,
                              GemmCheckCounters* counters, cudaStream_t s);
// gemm-corrupt injection: flips one mantissa bit of one C element.
cudaError_t launch_corrupt_element(float* c, unsigned long long index, cudaStream_t s);

}  // namespace fleet::gpuprobe::cuda
