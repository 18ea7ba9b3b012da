#pragma once
// The Train page's live charts (Qt Charts): raw and smoothed (EMA) loss per stage with the
// boundary between the stages marked, the learning rate, steps per second and memory. Points
// are appended as steps arrive; a series that grows past the cap is thinned to every other
// point (the newest kept), so a 10 000-step run stays cheap to draw.

#include <QList>
#include <QPointF>
#include <QWidget>

#include "jobs/training_worker.h"

class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;

namespace kiln::app {

class TrainCharts : public QWidget {
  Q_OBJECT

 public:
  explicit TrainCharts(QWidget* parent = nullptr);

  void addStep(const TrainingStep& step);
  void addSteps(const QList<TrainingStep>& steps);
  void clear();

  // Points each series holds at most before it is thinned.
  void setPointCap(int cap) { mCap = cap; }
  // EMA weight of the previous value (0.9: about the last 10 steps).
  void setSmoothing(double factor) { mSmoothing = factor; }

  // For tests: the series and the stage boundary (the first UNet step after text-encoder
  // steps; -1 when there is none).
  QLineSeries* lossSeries(bool textEncoder) const { return textEncoder ? mLossText : mLossUNet; }
  QLineSeries* smoothedSeries(bool textEncoder) const { return textEncoder ? mSmoothText : mSmoothUNet; }
  QLineSeries* learningRateSeries() const { return mLearningRate; }
  QLineSeries* speedSeries() const { return mSpeed; }
  QLineSeries* memorySeries() const { return mMemory; }
  QLineSeries* boundarySeries() const { return mBoundary; }
  qint64 boundaryStep() const { return mBoundaryStep; }
  qint64 lastStep() const { return mLastStep; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  struct Axes {
    QValueAxis* x = nullptr;
    QValueAxis* y = nullptr;
    double minY = 0, maxY = 0;
    bool empty = true;
  };
  QChartView* makeChart(const QString& title, Axes& axes, const QList<QLineSeries*>& series);
  void append(QLineSeries* series, QList<QPointF>& points, const QPointF& point);
  void grow(Axes& axes, double x, double y);
  void updateBoundary();
  void applyTheme();
  void retranslate();

  int mCap = 4000;
  double mSmoothing = 0.9;
  qint64 mLastStep = 0;
  qint64 mBoundaryStep = -1;
  bool mLastWasText = false;
  double mEma = 0;
  bool mEmaStarted = false;
  double mFirstX = 0;

  QLineSeries* mLossText;
  QLineSeries* mLossUNet;
  QLineSeries* mSmoothText;
  QLineSeries* mSmoothUNet;
  QLineSeries* mBoundary;
  QLineSeries* mLearningRate;
  QLineSeries* mSpeed;
  QLineSeries* mMemory;
  QList<QPointF> mLossTextPoints, mLossUNetPoints, mSmoothTextPoints, mSmoothUNetPoints;
  QList<QPointF> mLearningRatePoints, mSpeedPoints, mMemoryPoints;
  Axes mLossAxes, mLearningRateAxes, mSpeedAxes, mMemoryAxes;
  QList<QChartView*> mViews;
};

}  // namespace kiln::app
