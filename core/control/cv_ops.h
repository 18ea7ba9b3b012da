#pragma once
// The OpenCV-level operations of kiln_control, on RGB(A) cv::Mats. Internal to kiln_control and
// its tests (this header exposes OpenCV); the public headers wrap these for ControlImage.

#include <opencv2/core/mat.hpp>

#include "control/geometry.h"

namespace kiln::control::cv_ops {

// --- geometry.cpp ---
cv::Mat hwc3(const cv::Mat& image);  // CV_8UC1/3/4 -> CV_8UC3
cv::Mat resize_image(const cv::Mat& image, int resolution);
struct PaddedMat {
  cv::Mat padded;
  int target_height = 0;
  int target_width = 0;
  cv::Mat remove_pad(const cv::Mat& map) const;  // a copy of map[:target_height, :target_width]
};
PaddedMat resize_image_with_pad(const cv::Mat& image, int resolution);  // HWC3 first

// --- edge_thinning.cpp (A1111 scripts/lvminthin.py, on CV_8UC1 0/255 maps) ---
// Keeps the pixels that equal their maximum along one of the four 3-pixel lines through them.
cv::Mat nake_nms(const cv::Mat& map);
// Hit-or-miss thinning, at most 32 passes of the 8 kernels, then (optionally) one pass of the 8
// pruning kernels.
cv::Mat lvmin_thin(const cv::Mat& map, bool prunings);

// --- control_map_fit.cpp (A1111 Script.detectmap_proc) ---
// `high_quality_resize(x, (width, height))`: CV_8UC3, or CV_32FC4 whose 4th channel is an
// inpaint mask (returned 0/255 after `> 127`).
cv::Mat high_quality_resize(const cv::Mat& map, int width, int height);
// detectmap_proc without the tensor: CV_8UC3 -> CV_8UC3, CV_32FC4 (inpaint) -> CV_32FC4.
cv::Mat fit_control_map(const cv::Mat& map, ResizeMode mode, int height, int width);

// --- model_free_preprocessors.cpp: A1111's OpenCV-only preprocessors on CV_8UC3 RGB ---
cv::Mat canny(const cv::Mat& rgb, int resolution, double low_threshold, double high_threshold);
cv::Mat invert(const cv::Mat& rgb);
cv::Mat threshold(const cv::Mat& rgb, int resolution, double threshold);
cv::Mat scribble_xdog(const cv::Mat& rgb, int resolution, double threshold);
// The shared core of lineart_standard: CV_8UC1 line intensity of an RGB image.
cv::Mat lineart_standard_intensity(const cv::Mat& rgb, double gaussian_sigma, double intensity_threshold);
cv::Mat lineart_standard(const cv::Mat& rgb, int resolution);
cv::Mat tile_resample(const cv::Mat& rgb, double rate);
cv::Mat blur_gaussian(const cv::Mat& rgb, int resolution, double sigma);
cv::Mat canny_controlnet_aux(const cv::Mat& rgb, int low_threshold, int high_threshold, int detect_resolution,
                             int image_resolution);
cv::Mat lineart_standard_controlnet_aux(const cv::Mat& rgb, double gaussian_sigma, double intensity_threshold,
                                        int detect_resolution);

}  // namespace kiln::control::cv_ops
