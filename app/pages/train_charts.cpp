#include "pages/train_charts.h"

#include <QEvent>
#include <QGridLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>

#include "widgets/theme.h"

namespace kiln::app {

namespace {

QLineSeries* makeSeries(QObject* parent) {
  auto* series = new QLineSeries(parent);
  series->setUseOpenGL(false);
  series->setPointsVisible(false);
  return series;
}

void setPen(QLineSeries* series, const QColor& color, qreal width, Qt::PenStyle style = Qt::SolidLine) {
  QPen pen(color, width, style);
  pen.setCosmetic(true);
  series->setPen(pen);
}

}  // namespace

TrainCharts::TrainCharts(QWidget* parent)
    : QWidget(parent),
      mLossText(makeSeries(this)),
      mLossUNet(makeSeries(this)),
      mSmoothText(makeSeries(this)),
      mSmoothUNet(makeSeries(this)),
      mBoundary(makeSeries(this)),
      mLearningRate(makeSeries(this)),
      mSpeed(makeSeries(this)),
      mMemory(makeSeries(this)) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->setSpacing(4);
  QChartView* loss = makeChart({}, mLossAxes, {mLossText, mLossUNet, mSmoothText, mSmoothUNet, mBoundary});
  QChartView* lr = makeChart({}, mLearningRateAxes, {mLearningRate});
  QChartView* speed = makeChart({}, mSpeedAxes, {mSpeed});
  QChartView* memory = makeChart({}, mMemoryAxes, {mMemory});
  loss->setObjectName(QStringLiteral("lossChart"));
  lr->setObjectName(QStringLiteral("learningRateChart"));
  speed->setObjectName(QStringLiteral("speedChart"));
  memory->setObjectName(QStringLiteral("memoryChart"));
  mLearningRateAxes.y->setLabelFormat(QStringLiteral("%.1e"));
  mSpeedAxes.y->setLabelFormat(QStringLiteral("%.2f"));
  mMemoryAxes.y->setLabelFormat(QStringLiteral("%.0f"));
  grid->addWidget(loss, 0, 0, 1, 3);
  grid->addWidget(lr, 1, 0);
  grid->addWidget(speed, 1, 1);
  grid->addWidget(memory, 1, 2);
  grid->setRowStretch(0, 3);
  grid->setRowStretch(1, 2);
  // The legend shows the four loss lines only.
  if (auto* chart = loss->chart()) {
    chart->legend()->setVisible(true);
    chart->legend()->setAlignment(Qt::AlignTop);
  }
  retranslate();
  applyTheme();
}

QChartView* TrainCharts::makeChart(const QString& title, Axes& axes, const QList<QLineSeries*>& series) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->setVisible(false);
  chart->setMargins(QMargins(4, 4, 4, 4));
  chart->setBackgroundRoundness(0);
  axes.x = new QValueAxis(chart);
  axes.y = new QValueAxis(chart);
  axes.x->setLabelFormat(QStringLiteral("%d"));
  axes.x->setTickCount(5);
  axes.y->setTickCount(5);
  axes.x->setRange(0, 1);
  axes.y->setRange(0, 1);
  chart->addAxis(axes.x, Qt::AlignBottom);
  chart->addAxis(axes.y, Qt::AlignLeft);
  for (QLineSeries* s : series) {
    chart->addSeries(s);
    s->attachAxis(axes.x);
    s->attachAxis(axes.y);
  }
  auto* view = new QChartView(chart, this);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(120);
  mViews << view;
  return view;
}

void TrainCharts::retranslate() {
  mLossText->setName(tr("Text encoder"));
  mSmoothText->setName(tr("Text encoder (smoothed)"));
  mLossUNet->setName(tr("UNet"));
  mSmoothUNet->setName(tr("UNet (smoothed)"));
  mBoundary->setName(tr("Stage change"));
  const QStringList titles{tr("Loss"), tr("Learning rate"), tr("Steps per second"), tr("Memory (MB)")};
  for (int i = 0; i < mViews.size() && i < titles.size(); ++i) mViews[i]->chart()->setTitle(titles[i]);
}

void TrainCharts::applyTheme() {
  const bool dark = widgets::Theme::isDark(palette());
  const QColor text = palette().color(QPalette::WindowText);
  const QColor base = palette().color(QPalette::Base);
  QColor grid = text;
  grid.setAlphaF(0.15);
  for (QChartView* view : mViews) {
    QChart* chart = view->chart();
    chart->setBackgroundBrush(base);
    chart->setTitleBrush(text);
    chart->legend()->setLabelColor(text);
    for (QAbstractAxis* axis : chart->axes()) {
      axis->setLabelsColor(text);
      axis->setGridLineColor(grid);
      axis->setLinePenColor(grid);
    }
    QFont title = chart->titleFont();
    title.setBold(true);
    chart->setTitleFont(title);
  }
  const QColor textColor = dark ? QColor(0x6c, 0xb4, 0xff) : QColor(0x1f, 0x6f, 0xd1);
  const QColor unetColor = dark ? QColor(0xff, 0xa6, 0x4d) : QColor(0xd9, 0x6a, 0x00);
  QColor faintText = textColor, faintUNet = unetColor;
  faintText.setAlphaF(0.35);
  faintUNet.setAlphaF(0.35);
  setPen(mLossText, faintText, 1);
  setPen(mLossUNet, faintUNet, 1);
  setPen(mSmoothText, textColor, 2);
  setPen(mSmoothUNet, unetColor, 2);
  QColor boundary = text;
  boundary.setAlphaF(0.6);
  setPen(mBoundary, boundary, 1, Qt::DashLine);
  setPen(mLearningRate, dark ? QColor(0x9d, 0xe0, 0x8a) : QColor(0x2e, 0x8b, 0x2e), 2);
  setPen(mSpeed, dark ? QColor(0xd8, 0x9b, 0xff) : QColor(0x80, 0x3d, 0xc4), 2);
  setPen(mMemory, dark ? QColor(0xff, 0x8a, 0x8a) : QColor(0xc0, 0x39, 0x2b), 2);
}

void TrainCharts::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) applyTheme();
  if (event->type() == QEvent::LanguageChange) retranslate();
}

void TrainCharts::append(QLineSeries* series, QList<QPointF>& points, const QPointF& point) {
  points.append(point);
  if (points.size() <= mCap) {
    series->append(point);
    return;
  }
  // Thin to every other point, keeping the newest; one replace() redraws once.
  QList<QPointF> thinned;
  thinned.reserve(points.size() / 2 + 1);
  for (qsizetype i = points.size() - 1; i >= 0; i -= 2) thinned.prepend(points[i]);
  points = thinned;
  series->replace(points);
}

void TrainCharts::grow(Axes& axes, double x, double y) {
  if (!std::isfinite(y)) return;
  if (axes.empty) {
    axes.minY = axes.maxY = y;
    axes.empty = false;
  } else {
    axes.minY = std::min(axes.minY, y);
    axes.maxY = std::max(axes.maxY, y);
  }
  const double pad = std::max((axes.maxY - axes.minY) * 0.08, std::abs(axes.maxY) * 0.02 + 1e-12);
  axes.y->setRange(std::max(0.0, axes.minY - pad), axes.maxY + pad);
  axes.x->setRange(mFirstX, std::max(x, mFirstX + 1));
}

void TrainCharts::addStep(const TrainingStep& s) {
  const double x = static_cast<double>(s.step);
  if (mLastStep == 0) mFirstX = std::max(0.0, x - 1);
  // A stage change (or the start) begins a new smoothed line.
  const bool newStage = mLastStep == 0 || s.textEncoder != mLastWasText;
  if (mLastStep > 0 && mLastWasText && !s.textEncoder) {
    mBoundaryStep = s.step;
  }
  if (newStage) mEmaStarted = false;
  mEma = mEmaStarted ? mSmoothing * mEma + (1 - mSmoothing) * s.loss : s.loss;
  mEmaStarted = true;
  if (s.textEncoder) {
    append(mLossText, mLossTextPoints, {x, s.loss});
    append(mSmoothText, mSmoothTextPoints, {x, mEma});
  } else {
    append(mLossUNet, mLossUNetPoints, {x, s.loss});
    append(mSmoothUNet, mSmoothUNetPoints, {x, mEma});
  }
  grow(mLossAxes, x, s.loss);
  append(mLearningRate, mLearningRatePoints, {x, s.learningRate});
  grow(mLearningRateAxes, x, s.learningRate);
  if (s.seconds > 0) {
    // Smoothed, as a single step's time jitters.
    const double speed = 1.0 / s.seconds;
    const double previous = mSpeedPoints.isEmpty() ? speed : mSpeedPoints.last().y();
    const double smoothed = mSpeedPoints.isEmpty() ? speed : 0.8 * previous + 0.2 * speed;
    append(mSpeed, mSpeedPoints, {x, smoothed});
    grow(mSpeedAxes, x, smoothed);
  }
  const double mb = static_cast<double>(s.memory) / (1024.0 * 1024.0);
  append(mMemory, mMemoryPoints, {x, mb});
  grow(mMemoryAxes, x, mb);
  for (Axes* axes : {&mLossAxes, &mLearningRateAxes, &mSpeedAxes, &mMemoryAxes}) {
    axes->x->setRange(mFirstX, std::max(x, mFirstX + 1));
  }
  mLastStep = s.step;
  mLastWasText = s.textEncoder;
  updateBoundary();
}

void TrainCharts::addSteps(const QList<TrainingStep>& steps) {
  for (const TrainingStep& s : steps) addStep(s);
}

void TrainCharts::updateBoundary() {
  if (mBoundaryStep < 0) {
    if (mBoundary->count() > 0) mBoundary->clear();
    return;
  }
  const double x = static_cast<double>(mBoundaryStep) - 0.5;
  mBoundary->replace(QList<QPointF>{{x, mLossAxes.y->min()}, {x, mLossAxes.y->max()}});
}

void TrainCharts::clear() {
  for (QLineSeries* s : {mLossText, mLossUNet, mSmoothText, mSmoothUNet, mBoundary, mLearningRate, mSpeed, mMemory})
    s->clear();
  for (QList<QPointF>* p : {&mLossTextPoints, &mLossUNetPoints, &mSmoothTextPoints, &mSmoothUNetPoints,
                            &mLearningRatePoints, &mSpeedPoints, &mMemoryPoints})
    p->clear();
  for (Axes* axes : {&mLossAxes, &mLearningRateAxes, &mSpeedAxes, &mMemoryAxes}) {
    axes->empty = true;
    axes->x->setRange(0, 1);
    axes->y->setRange(0, 1);
  }
  mLastStep = 0;
  mBoundaryStep = -1;
  mEmaStarted = false;
  mFirstX = 0;
}

}  // namespace kiln::app
