#include "dataset/focal_point.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace kiln::dataset {

namespace {

constexpr int kWorkSide = 256;     // the maps' longer side
constexpr int kSpectrumSide = 64;  // spectral residual works at a coarse, fixed scale

void scale_to_unit(cv::Mat& m) {
  double lo = 0, hi = 0;
  cv::minMaxLoc(m, &lo, &hi);
  if (hi > lo)
    m = (m - lo) / (hi - lo);
  else
    m.setTo(0);
}

cv::Mat spectral_residual(const cv::Mat& gray) {
  cv::Mat small;
  cv::resize(gray, small, cv::Size(kSpectrumSide, kSpectrumSide), 0, 0, cv::INTER_AREA);
  small.convertTo(small, CV_32F, 1.0 / 255);
  cv::Mat planes[] = {small, cv::Mat::zeros(small.size(), CV_32F)};
  cv::Mat spectrum;
  cv::merge(planes, 2, spectrum);
  cv::dft(spectrum, spectrum);
  cv::split(spectrum, planes);
  cv::Mat magnitude, phase;
  cv::cartToPolar(planes[0], planes[1], magnitude, phase);
  cv::Mat log_amplitude;
  cv::log(magnitude + 1e-6f, log_amplitude);
  cv::Mat smooth;
  cv::blur(log_amplitude, smooth, cv::Size(3, 3));
  cv::Mat residual;
  cv::exp(log_amplitude - smooth, residual);
  cv::polarToCart(residual, phase, planes[0], planes[1]);
  cv::merge(planes, 2, spectrum);
  cv::idft(spectrum, spectrum, cv::DFT_SCALE);
  cv::split(spectrum, planes);
  cv::Mat energy;
  cv::magnitude(planes[0], planes[1], energy);
  energy = energy.mul(energy);
  cv::GaussianBlur(energy, energy, cv::Size(0, 0), 2.5);
  cv::Mat out;
  cv::resize(energy, out, gray.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Mat corner_density(const cv::Mat& gray) {
  cv::Mat response;
  cv::cornerMinEigenVal(gray, response, 3);
  cv::GaussianBlur(response, response, cv::Size(0, 0), kWorkSide / 24.0);
  return response;
}

// Shannon entropy of 16 grey levels in a window around each pixel: textured, detailed parts
// score high, flat sky and walls low.
cv::Mat local_entropy(const cv::Mat& gray) {
  constexpr int kBins = 16;
  const int window = std::max(5, kWorkSide / 16) | 1;
  cv::Mat entropy = cv::Mat::zeros(gray.size(), CV_32F);
  cv::Mat bin_mask, p;
  for (int b = 0; b < kBins; ++b) {
    cv::inRange(gray, cv::Scalar(b * 16), cv::Scalar(b * 16 + 15), bin_mask);
    bin_mask.convertTo(p, CV_32F, 1.0 / 255);
    cv::blur(p, p, cv::Size(window, window));
    cv::Mat logp;
    cv::log(p + 1e-6f, logp);
    entropy -= p.mul(logp);
  }
  return entropy;
}

}  // namespace

Point find_focal_point(const cv::Mat& bgr, ImageSize displayed, FocalMaps* maps) {
  const Point centre{displayed.width / 2.0, displayed.height / 2.0};
  if (bgr.empty() || bgr.cols < 8 || bgr.rows < 8) return centre;
  const double scale = std::min(1.0, static_cast<double>(kWorkSide) / std::max(bgr.cols, bgr.rows));
  cv::Mat small, gray;
  cv::resize(bgr, small, cv::Size(), scale, scale, cv::INTER_AREA);
  cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);

  FocalMaps local;
  FocalMaps& m = maps ? *maps : local;
  m.saliency = spectral_residual(gray);
  m.corners = corner_density(gray);
  m.entropy = local_entropy(gray);
  for (cv::Mat* map : {&m.saliency, &m.corners, &m.entropy}) scale_to_unit(*map);
  m.combined = 0.5 * m.saliency + 0.25 * m.corners + 0.25 * m.entropy;

  // Weighted centroid of the squared blend (peaks count more than broad texture), times a mild
  // centre prior so that evenly busy pictures keep a centred crop.
  double sum = 0, sx = 0, sy = 0;
  const double cx = gray.cols / 2.0, cy = gray.rows / 2.0;
  for (int y = 0; y < gray.rows; ++y) {
    const float* row = m.combined.ptr<float>(y);
    for (int x = 0; x < gray.cols; ++x) {
      const double dx = (x + 0.5 - cx) / cx, dy = (y + 0.5 - cy) / cy;
      const double w = row[x] * row[x] * (1.0 - 0.35 * (dx * dx + dy * dy) / 2);
      sum += w;
      sx += w * (x + 0.5);
      sy += w * (y + 0.5);
    }
  }
  if (sum <= 0) return centre;
  return {sx / sum * displayed.width / gray.cols, sy / sum * displayed.height / gray.rows};
}

}  // namespace kiln::dataset
