// The slice of cuDNN 9 this addon calls, declared here so the addon builds without cuDNN's
// headers. Enum values and prototypes are those of cuDNN 9.6's cudnn_graph.h, cudnn_ops.h and
// cudnn_adv.h; every function is exported by the shim libcudnn.so.9, which loads the
// sub-libraries (cudnn_adv, cudnn_ops, ...) from its own directory on first use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cuda_api.h"

namespace gru_cudnn {

using cudnnStatus_t = int;
struct cudnnContext;
using cudnnHandle_t = cudnnContext*;
struct cudnnTensorStruct;
using cudnnTensorDescriptor_t = cudnnTensorStruct*;
struct cudnnDropoutStruct;
using cudnnDropoutDescriptor_t = cudnnDropoutStruct*;
struct cudnnRNNStruct;
using cudnnRNNDescriptor_t = cudnnRNNStruct*;
struct cudnnRNNDataStruct;
using cudnnRNNDataDescriptor_t = cudnnRNNDataStruct*;

constexpr cudnnStatus_t CUDNN_STATUS_SUCCESS = 0;

// cudnnDataType_t
constexpr int CUDNN_DATA_FLOAT = 0;
constexpr int CUDNN_DATA_DOUBLE = 1;
constexpr int CUDNN_DATA_HALF = 2;
// cudnnMathType_t
constexpr int CUDNN_DEFAULT_MATH = 0;
constexpr int CUDNN_TENSOR_OP_MATH = 1;
constexpr int CUDNN_FMA_MATH = 3;
// cudnnRNNAlgo_t, cudnnRNNMode_t, cudnnRNNBiasMode_t, cudnnDirectionMode_t, cudnnRNNInputMode_t
constexpr int CUDNN_RNN_ALGO_STANDARD = 0;
constexpr int CUDNN_GRU = 3;
constexpr int CUDNN_RNN_DOUBLE_BIAS = 2;
constexpr int CUDNN_UNIDIRECTIONAL = 0;
constexpr int CUDNN_LINEAR_INPUT = 0;
// cudnnForwardMode_t
constexpr int CUDNN_FWD_MODE_INFERENCE = 0;
constexpr int CUDNN_FWD_MODE_TRAINING = 1;
// cudnnRNNDataLayout_t (SEQ_MAJOR_UNPACKED 0, SEQ_MAJOR_PACKED 1)
constexpr int CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED = 2;
// auxFlags of cudnnSetRNNDescriptor_v8: unpacked layouts need padded I/O enabled.
constexpr uint32_t CUDNN_RNN_PADDED_IO_ENABLED = 1u;
// cudnnWgradMode_t
constexpr int CUDNN_WGRAD_MODE_ADD = 0;

struct CudnnApi {
  size_t (*cudnnGetVersion)();
  size_t (*cudnnGetCudartVersion)();
  const char* (*cudnnGetErrorString)(cudnnStatus_t status);
  void (*cudnnGetLastErrorString)(char* message, size_t maxSize);
  cudnnStatus_t (*cudnnCreate)(cudnnHandle_t* handle);
  cudnnStatus_t (*cudnnDestroy)(cudnnHandle_t handle);
  cudnnStatus_t (*cudnnSetStream)(cudnnHandle_t handle, CUstream stream);

  cudnnStatus_t (*cudnnCreateTensorDescriptor)(cudnnTensorDescriptor_t* desc);
  cudnnStatus_t (*cudnnDestroyTensorDescriptor)(cudnnTensorDescriptor_t desc);
  cudnnStatus_t (*cudnnSetTensorNdDescriptor)(cudnnTensorDescriptor_t desc, int dataType, int nbDims, const int dims[], const int strides[]);
  cudnnStatus_t (*cudnnGetTensorNdDescriptor)(cudnnTensorDescriptor_t desc, int nbDimsRequested, int* dataType, int* nbDims, int dims[], int strides[]);

  cudnnStatus_t (*cudnnCreateDropoutDescriptor)(cudnnDropoutDescriptor_t* desc);
  cudnnStatus_t (*cudnnDestroyDropoutDescriptor)(cudnnDropoutDescriptor_t desc);
  cudnnStatus_t (*cudnnSetDropoutDescriptor)(cudnnDropoutDescriptor_t desc, cudnnHandle_t handle, float dropout, void* states, size_t stateSizeInBytes,
                                             unsigned long long seed);

  cudnnStatus_t (*cudnnCreateRNNDescriptor)(cudnnRNNDescriptor_t* desc);
  cudnnStatus_t (*cudnnDestroyRNNDescriptor)(cudnnRNNDescriptor_t desc);
  cudnnStatus_t (*cudnnSetRNNDescriptor_v8)(cudnnRNNDescriptor_t desc, int algo, int cellMode, int biasMode, int dirMode, int inputMode, int dataType,
                                            int mathPrec, int mathType, int32_t inputSize, int32_t hiddenSize, int32_t projSize, int32_t numLayers,
                                            cudnnDropoutDescriptor_t dropoutDesc, uint32_t auxFlags);
  cudnnStatus_t (*cudnnCreateRNNDataDescriptor)(cudnnRNNDataDescriptor_t* desc);
  cudnnStatus_t (*cudnnDestroyRNNDataDescriptor)(cudnnRNNDataDescriptor_t desc);
  cudnnStatus_t (*cudnnSetRNNDataDescriptor)(cudnnRNNDataDescriptor_t desc, int dataType, int layout, int maxSeqLength, int batchSize, int vectorSize,
                                             const int seqLengthArray[], void* paddingFill);

  cudnnStatus_t (*cudnnGetRNNWeightSpaceSize)(cudnnHandle_t handle, cudnnRNNDescriptor_t desc, size_t* weightSpaceSize);
  cudnnStatus_t (*cudnnGetRNNTempSpaceSizes)(cudnnHandle_t handle, cudnnRNNDescriptor_t desc, int fwdMode, cudnnRNNDataDescriptor_t xDesc,
                                             size_t* workSpaceSize, size_t* reserveSpaceSize);
  cudnnStatus_t (*cudnnGetRNNWeightParams)(cudnnHandle_t handle, cudnnRNNDescriptor_t desc, int32_t pseudoLayer, size_t weightSpaceSize,
                                           const void* weightSpace, int32_t linLayerID, cudnnTensorDescriptor_t mDesc, void** mAddr,
                                           cudnnTensorDescriptor_t bDesc, void** bAddr);

  cudnnStatus_t (*cudnnRNNForward)(cudnnHandle_t handle, cudnnRNNDescriptor_t desc, int fwdMode, const int32_t devSeqLengths[], cudnnRNNDataDescriptor_t xDesc,
                                   const void* x, cudnnRNNDataDescriptor_t yDesc, void* y, cudnnTensorDescriptor_t hDesc, const void* hx, void* hy,
                                   cudnnTensorDescriptor_t cDesc, const void* cx, void* cy, size_t weightSpaceSize, const void* weightSpace,
                                   size_t workSpaceSize, void* workSpace, size_t reserveSpaceSize, void* reserveSpace);
  cudnnStatus_t (*cudnnRNNBackwardData_v8)(cudnnHandle_t handle, cudnnRNNDescriptor_t desc, const int32_t devSeqLengths[], cudnnRNNDataDescriptor_t yDesc,
                                           const void* y, const void* dy, cudnnRNNDataDescriptor_t xDesc, void* dx, cudnnTensorDescriptor_t hDesc,
                                           const void* hx, const void* dhy, void* dhx, cudnnTensorDescriptor_t cDesc, const void* cx, const void* dcy,
                                           void* dcx, size_t weightSpaceSize, const void* weightSpace, size_t workSpaceSize, void* workSpace,
                                           size_t reserveSpaceSize, void* reserveSpace);
  cudnnStatus_t (*cudnnRNNBackwardWeights_v8)(cudnnHandle_t handle, cudnnRNNDescriptor_t desc, int addGrad, const int32_t devSeqLengths[],
                                              cudnnRNNDataDescriptor_t xDesc, const void* x, cudnnTensorDescriptor_t hDesc, const void* hx,
                                              cudnnRNNDataDescriptor_t yDesc, const void* y, size_t weightSpaceSize, void* dweightSpace, size_t workSpaceSize,
                                              void* workSpace, size_t reserveSpaceSize, void* reserveSpace);
};

}  // namespace gru_cudnn
