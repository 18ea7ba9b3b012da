#pragma once
// QImage <-> the tensors the engine takes and returns. The engine never sees Qt; images cross
// here.

#include <QImage>

#include <torch/torch.h>

namespace kiln::bridge {

// [H, W, 3] float in [0, 1] (one image of a GenerationResult) -> RGB888, rounded as diffusers does.
QImage imageFromTensor(const torch::Tensor& hwc);
// [H, W, 3] uint8 -> RGB888 (previews).
QImage imageFromUint8(const torch::Tensor& hwc);
// An image, scaled to width x height when it differs (smooth), -> [1, 3, H, W] float in [-1, 1]
// (img2img's init image).
torch::Tensor initImageTensor(const QImage& image, int width, int height);
// The same in [0, 1] (ControlNet conditioning images).
torch::Tensor controlImageTensor(const QImage& image, int width, int height);
// A mask (white = repaint; alpha or gray) -> [1, 1, H, W] float in [0, 1].
torch::Tensor maskTensor(const QImage& mask, int width, int height);

}  // namespace kiln::bridge
