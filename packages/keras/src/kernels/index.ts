/**
 * The non-GRU layers' math, plain TypeScript over typed arrays, shared by every backend. Each file's
 * header documents its kernel: shapes in and out, Keras's weight order, the config fields it reads
 * (in Keras's names) and the mask Keras's compute_mask passes on.
 */
export * from './attention.js';
export * from './batch-normalization.js';
export * from './common.js';
export * from './conv1d.js';
export * from './global-pooling1d.js';
export * from './layer-normalization.js';
export * from './multi-head-attention.js';
export * from './pooling1d.js';
export * from './reshaping1d.js';
