import { gruRunner } from '../gru-runner.mjs';

// @gru/cudnn: cuDNN 9's cudnnRNNForward on an NVIDIA GPU, fp32 math (no TF32). Unavailable
// (with the reason load() gives) on machines without a GPU, driver or cuDNN.
export default gruRunner('cudnn', () => import('@gru/cudnn'), {
  note: 'cuDNN 9 cudnnRNNForward on the GPU, fp32 (FMA math, no TF32); each pass includes its one host-to-device and one device-to-host copy',
});
