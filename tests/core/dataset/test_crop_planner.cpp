// The crop rules as a pure function: sizes, edges, several faces, oversized faces, focal
// points, zoom, and a randomised check of the invariants.
#include <doctest/doctest.h>

#include <random>

#include "base/error.h"
#include "dataset/crop_planner.h"

using kiln::dataset::Box;
using kiln::dataset::CropOptions;
using kiln::dataset::CropPlan;
using kiln::dataset::CropSubject;
using kiln::dataset::ImageSize;
using kiln::dataset::plan_crop;
using kiln::dataset::Point;

namespace {

std::vector<Box> one(Box b) { return {b}; }

bool inside(ImageSize image, const Box& c) {
  return c.w == c.h && c.w > 0 && c.x >= 0 && c.y >= 0 && c.right() <= image.width && c.bottom() <= image.height;
}

// Where the face centre sits in the square, 0..1 per axis.
double fx(const Box& crop, const Box& face) { return (face.centre_x() - crop.x) / crop.w; }
double fy(const Box& crop, const Box& face) { return (face.centre_y() - crop.y) / crop.w; }

}  // namespace

TEST_CASE("one face: the largest square, the face inside and centred, hair above it") {
  const ImageSize image{1200, 800};
  const Box face{500, 300, 200, 200};
  const CropPlan plan = plan_crop(image, one(face));
  CHECK(plan.crop.w == 800);
  CHECK(inside(image, plan.crop));
  CHECK(plan.crop.contains(face));
  CHECK(plan.subject == CropSubject::LargestFace);
  CHECK(plan.head_margin_included);
  CHECK(fx(plan.crop, face) == doctest::Approx(0.5));
  // The square spans the height: y is 0 whatever the face.
  CHECK(plan.crop.y == 0);
}

TEST_CASE("portrait: the square slides up to keep the face in the middle band, with room for hair") {
  const ImageSize image{600, 1200};
  const Box face{250, 200, 100, 100};
  const CropPlan plan = plan_crop(image, one(face));
  CHECK(plan.crop.w == 600);
  CHECK(plan.crop.contains(face));
  // Centred on the head (hair above), but the face centre at most 10 % off the middle.
  CHECK(plan.crop.y == 0);  // the band would need y < 0: clamped at the top edge
  const Box lower{250, 700, 100, 100};
  const CropPlan p2 = plan_crop(image, one(lower));
  CHECK(p2.crop.y > 0);
  CHECK(p2.crop.bottom() < 1200);
  CHECK(fy(p2.crop, lower) >= 0.4);
  CHECK(fy(p2.crop, lower) <= 0.6);
  CHECK(fy(p2.crop, lower) > 0.5);  // shifted down in the square: there is hair above the eyebrows
}

TEST_CASE("faces at the image edges: the square is clamped to the edge") {
  const ImageSize wide{1280, 854};
  const CropPlan left = plan_crop(wide, one({12, 300, 200, 185}));
  CHECK(left.crop == Box{0, 0, 854, 854});
  const ImageSize space{1000, 500};
  const CropPlan right = plan_crop(space, one({880, 150, 110, 108}));
  CHECK(right.crop == Box{500, 0, 500, 500});
}

TEST_CASE("several faces: all of them when they fit, else the largest") {
  const ImageSize image{800, 600};
  const std::vector<Box> couple{{260, 162, 124, 116}, {377, 139, 129, 111}};
  const CropPlan both = plan_crop(image, couple);
  CHECK(both.subject == CropSubject::AllFaces);
  CHECK(both.all_faces_included);
  CHECK(both.crop.contains(couple[0]));
  CHECK(both.crop.contains(couple[1]));

  const ImageSize brick{1024, 640};
  const std::vector<Box> apart{{700, 230, 120, 114}, {150, 170, 150, 147}};  // the larger second
  const CropPlan largest = plan_crop(brick, apart);
  CHECK(largest.subject == CropSubject::LargestFace);
  CHECK_FALSE(largest.all_faces_included);
  CHECK(largest.crop.contains(apart[1]));
  CHECK(largest.crop.x == 0);
}

TEST_CASE("several faces that fit only with the largest off the middle band keep the largest centred") {
  // 900 px square; faces 700 px apart: together they fit, but the larger one's centre would
  // sit at 0.2 of the square.
  const ImageSize image{2000, 900};
  const std::vector<Box> faces{{600, 300, 150, 150}, {1200, 300, 100, 100}};
  const CropPlan plan = plan_crop(image, faces);
  CHECK(plan.subject == CropSubject::LargestFace);
  CHECK_FALSE(plan.all_faces_included);
  CHECK(fx(plan.crop, faces[0]) >= 0.4);
  CHECK(fx(plan.crop, faces[0]) <= 0.6);
}

TEST_CASE("tiny background faces do not steer the crop") {
  const ImageSize image{1600, 900};
  const Box main{700, 300, 200, 200};
  const Box passer_by{1300, 100, 30, 30};
  const CropPlan plan = plan_crop(image, std::vector<Box>{main, passer_by});
  CHECK(plan.subject == CropSubject::LargestFace);
  CHECK(plan.all_faces_included);  // nothing similar was left out
  CHECK(fx(plan.crop, main) == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("a face larger than the largest square: centred on it, clamped") {
  const ImageSize image{800, 533};
  const Box face{160, 15, 552, 490};
  const CropPlan plan = plan_crop(image, one(face));
  CHECK(plan.subject == CropSubject::OversizedFace);
  CHECK(plan.crop.w == 533);
  CHECK(plan.crop.x == static_cast<int>(std::lround(face.centre_x() - 533 / 2.0)));
  CHECK(plan.crop.y == 0);
}

TEST_CASE("no face: centred on the focal point, clamped; without one, the centre") {
  const ImageSize image{600, 400};
  const CropPlan focal = plan_crop(image, {}, Point{150, 100});
  CHECK(focal.subject == CropSubject::FocalPoint);
  CHECK(focal.crop == Box{0, 0, 400, 400});
  const CropPlan right = plan_crop(image, {}, Point{380, 200});
  CHECK(right.crop == Box{180, 0, 400, 400});
  const CropPlan centre = plan_crop(image, {});
  CHECK(centre.subject == CropSubject::Centre);
  CHECK(centre.crop == Box{100, 0, 400, 400});
}

TEST_CASE("zoom: a square a few face sizes wide, never below the output resolution") {
  const ImageSize image{4000, 3000};
  const Box face{2000, 1000, 300, 300};
  CropOptions options;
  options.face_zoom = 3.0;
  options.min_side = 512;
  const CropPlan plan = plan_crop(image, one(face), std::nullopt, options);
  CHECK(plan.crop.w == 900);
  CHECK(plan.crop.contains(face));
  CHECK(fx(plan.crop, face) == doctest::Approx(0.5));
  CHECK(fy(plan.crop, face) >= 0.5);
  CHECK(fy(plan.crop, face) <= 0.6);
  options.min_side = 1024;
  CHECK(plan_crop(image, one(face), std::nullopt, options).crop.w == 1024);
  const Box small{100, 100, 50, 50};
  options.min_side = 512;
  CHECK(plan_crop(image, one(small), std::nullopt, options).crop.w == 512);
}

TEST_CASE("faces are clipped to the image and empty ones ignored; bad sizes and options are refused") {
  const ImageSize image{500, 500};
  const CropPlan plan = plan_crop(image, std::vector<Box>{{-50, -50, 100, 100}, {10, 10, 0, 0}});
  CHECK(plan.crop == Box{0, 0, 500, 500});
  CHECK_THROWS_AS(plan_crop({0, 100}, {}), kiln::InvalidRequestError);
  CropOptions bad;
  bad.centre_band = 0.1;
  CHECK_THROWS_WITH_AS(plan_crop(image, {}, std::nullopt, bad),
                       "crop centre_band must be within [1/6, 0.5], got 0.100000", kiln::InvalidRequestError);
}

TEST_CASE("check_crop_box accepts squares inside the image only") {
  const ImageSize image{800, 600};
  CHECK_NOTHROW(kiln::dataset::check_crop_box(image, {200, 0, 600, 600}));
  CHECK_THROWS_WITH_AS(kiln::dataset::check_crop_box(image, {0, 0, 600, 500}),
                       "crop box [0, 0, 600, 500] is not a square (width and height must be equal and > 0)",
                       kiln::InvalidRequestError);
  CHECK_THROWS_WITH_AS(kiln::dataset::check_crop_box(image, {300, 0, 600, 600}),
                       "crop box [300, 0, 600, 600] lies outside the 800x600 image", kiln::InvalidRequestError);
}

TEST_CASE("randomised: the square is inside, holds the largest face and centres it unless at an edge") {
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    const ImageSize image{std::uniform_int_distribution<int>(64, 4000)(rng),
                          std::uniform_int_distribution<int>(64, 4000)(rng)};
    const int limit = image.short_side();
    const int fw = std::uniform_int_distribution<int>(8, limit)(rng);
    const int fh =
        std::clamp(static_cast<int>(fw * std::uniform_real_distribution<double>(0.8, 1.2)(rng)), 8, image.height);
    const Box face{std::uniform_int_distribution<int>(0, image.width - fw)(rng),
                   std::uniform_int_distribution<int>(0, image.height - fh)(rng), fw, fh};
    std::vector<Box> faces{face};
    if (i % 3 == 0) {
      const int w2 = std::max(8, fw * 2 / 3);
      faces.push_back({std::uniform_int_distribution<int>(0, image.width - w2)(rng),
                       std::uniform_int_distribution<int>(0, std::max(0, image.height - w2))(rng), w2,
                       std::min(w2, image.height)});
    }
    CropOptions options;
    if (i % 2 == 0) {
      options.face_zoom = std::uniform_real_distribution<double>(1.0, 5.0)(rng);
      options.min_side = 64;
    }
    const CropPlan plan = plan_crop(image, faces, std::nullopt, options);
    CAPTURE(i);
    const Box& c = plan.crop;
    REQUIRE(inside(image, c));
    if (std::max(face.w, face.h) <= c.w) {
      // Within a pixel of rounding.
      CHECK(c.x <= face.x + 1);
      CHECK(c.y <= face.y + 1);
      CHECK(c.right() >= face.right() - 1);
      CHECK(c.bottom() >= face.bottom() - 1);
    }
    const double px = fx(c, face), py = fy(c, face);
    const double eps = 1.0 / c.w;
    CHECK((c.x == 0 || c.right() == image.width || (px >= 0.4 - eps && px <= 0.6 + eps)));
    CHECK((c.y == 0 || c.bottom() == image.height || (py >= 0.4 - eps && py <= 0.6 + eps)));
  }
}
