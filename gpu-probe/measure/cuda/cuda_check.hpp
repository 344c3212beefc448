#pragma once
// Every CUDA and cuBLAS return code goes through check(): a failure becomes an exception inside the measurement
// layer and is caught at the boundary of each measurement, where it turns into that measurement's `error`.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace fleet::gpuprobe::cuda {

class CudaFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw CudaFailure(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
  }
}

inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw CudaFailure(std::string(what) + ": " + cublasGetStatusName(s));
}

}  // namespace fleet::gpuprobe::cuda
