#include <doctest/doctest.h>

#include "base/error.h"
#include "training/lr_schedule.h"

using namespace kiln::training;

TEST_CASE("learning-rate schedules follow diffusers' get_scheduler") {
  LRSchedule linear{LRScheduleKind::Linear, 0, 4};
  CHECK(linear.factor(0) == doctest::Approx(1.0));
  CHECK(linear.factor(1) == doctest::Approx(0.75));
  CHECK(linear.factor(3) == doctest::Approx(0.25));
  CHECK(linear.factor(4) == doctest::Approx(0.0));
  CHECK(linear.factor(9) == doctest::Approx(0.0));

  LRSchedule warm{LRScheduleKind::Linear, 2, 6};
  CHECK(warm.factor(0) == doctest::Approx(0.0));
  CHECK(warm.factor(1) == doctest::Approx(0.5));
  CHECK(warm.factor(2) == doctest::Approx(1.0));
  CHECK(warm.factor(4) == doctest::Approx(0.5));

  LRSchedule cosine{LRScheduleKind::Cosine, 0, 10};
  CHECK(cosine.factor(0) == doctest::Approx(1.0));
  CHECK(cosine.factor(5) == doctest::Approx(0.5));
  CHECK(cosine.factor(10) == doctest::Approx(0.0));

  LRSchedule constant_warm{LRScheduleKind::ConstantWithWarmup, 4, 10};
  CHECK(constant_warm.factor(2) == doctest::Approx(0.5));
  CHECK(constant_warm.factor(8) == doctest::Approx(1.0));
  CHECK(LRSchedule{LRScheduleKind::Constant, 0, 3}.factor(7) == doctest::Approx(1.0));

  CHECK(parse_lr_schedule("cosine") == LRScheduleKind::Cosine);
  CHECK_THROWS_AS(parse_lr_schedule("exponential"), kiln::InvalidRequestError);
}
