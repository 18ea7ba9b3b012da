#pragma once
// ControlImage <-> cv::Mat. Internal to kiln_control and its tests: this header exposes OpenCV.
// Mats keep the reference's channel order (RGB/RGBA, never BGR): every operation of this layer
// is channel-symmetric except the codecs, which swap at the file boundary.

#include <opencv2/core/mat.hpp>

#include "control/control_image.h"

namespace kiln::control {

// A deep copy as CV_8UC1/3/4.
cv::Mat to_mat(const ControlImage& image);
// From CV_8UC1/3/4 (any strides). Throws InvalidRequestError for another type.
ControlImage from_mat(const cv::Mat& mat);

}  // namespace kiln::control
