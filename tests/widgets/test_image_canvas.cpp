// ImageCanvas driven as a user would: mask strokes (the inpainting layer, as before), and the
// scribble layer beside it: black lines on white as drawn, white on black as sent, the eraser,
// one undo step per stroke on the shared stack, loading, clearing, and each layer's own brush.
#include <QSignalSpy>
#include <QtTest>

#include "widgets/image_canvas.h"

using kiln::widgets::ImageCanvas;
using Layer = ImageCanvas::Layer;
using Tool = ImageCanvas::Tool;

namespace {

QImage gray(int width, int height, int level) {
  QImage image(width, height, QImage::Format_RGB32);
  image.fill(QColor(level, level, level));
  return image;
}

int at(const QImage& image, int x, int y) { return qGray(image.pixel(x, y)); }

}  // namespace

class TestImageCanvas : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init();
  void cleanup();
  void maskLayerPaintsAsBefore();
  void scribbleStrokeWithTheMouse();
  void scribbleIsDrawnBlackOnWhiteAndSentInverted();
  void eraserAndUndoOnTheScribble();
  void undoSwitchesToTheLayerItChanges();
  void eachLayerKeepsItsBrush();
  void loadAndClearScribble();
  void keepMaskKeepsBothLayers();

 private:
  std::unique_ptr<ImageCanvas> mCanvas;
};

void TestImageCanvas::init() {
  mCanvas = std::make_unique<ImageCanvas>();
  mCanvas->resize(400, 400);
  mCanvas->setImage(gray(128, 96, 128));
  mCanvas->setTool(Tool::Brush);
  mCanvas->show();
  QVERIFY(QTest::qWaitForWindowExposed(mCanvas.get()));
}

void TestImageCanvas::cleanup() { mCanvas.reset(); }

void TestImageCanvas::maskLayerPaintsAsBefore() {
  QCOMPARE(mCanvas->layer(), Layer::Mask);
  QSignalSpy masks(mCanvas.get(), &ImageCanvas::maskChanged);
  QSignalSpy scribbles(mCanvas.get(), &ImageCanvas::scribbleChanged);
  mCanvas->setBrushSize(16);
  mCanvas->setBrushHardness(1.0);
  mCanvas->paintStroke({QPointF(8, 8), QPointF(40, 8)});
  QVERIFY(mCanvas->hasMask());
  QVERIFY(!mCanvas->hasScribble());
  QCOMPARE(mCanvas->mask().format(), QImage::Format_Grayscale8);
  QCOMPARE(mCanvas->mask().size(), QSize(128, 96));
  QCOMPARE(at(mCanvas->mask(), 24, 8), 255);
  QCOMPARE(at(mCanvas->mask(), 24, 60), 0);
  QCOMPARE(masks.count(), 1);
  QCOMPARE(scribbles.count(), 0);
  QCOMPARE(mCanvas->undoStack()->count(), 1);
  mCanvas->undoStack()->undo();
  QVERIFY(!mCanvas->hasMask());
  mCanvas->undoStack()->redo();
  QCOMPARE(at(mCanvas->mask(), 24, 8), 255);
  mCanvas->clearMask();
  QVERIFY(!mCanvas->hasMask());
  QCOMPARE(mCanvas->undoStack()->count(), 2);
}

void TestImageCanvas::scribbleStrokeWithTheMouse() {
  QSignalSpy layers(mCanvas.get(), &ImageCanvas::layerChanged);
  mCanvas->setLayer(Layer::Scribble);
  QCOMPARE(layers.count(), 1);
  mCanvas->setBrushSize(4);
  QSignalSpy scribbles(mCanvas.get(), &ImageCanvas::scribbleChanged);
  const QPoint from = mCanvas->mapFromImage(QPointF(20, 50)).toPoint();
  const QPoint to = mCanvas->mapFromImage(QPointF(100, 50)).toPoint();
  QTest::mousePress(mCanvas.get(), Qt::LeftButton, Qt::NoModifier, from);
  for (int i = 1; i <= 8; ++i) QTest::mouseMove(mCanvas.get(), from + (to - from) * i / 8);
  QTest::mouseRelease(mCanvas.get(), Qt::LeftButton, Qt::NoModifier, to);
  QCOMPARE(scribbles.count(), 1);
  QCOMPARE(mCanvas->undoStack()->count(), 1);
  QVERIFY(mCanvas->hasScribble());
  QVERIFY(!mCanvas->hasMask());
  const QImage drawing = mCanvas->scribbleDrawing();
  QCOMPARE(at(drawing, 60, 50), 0);     // a black line
  QCOMPARE(at(drawing, 60, 20), 255);   // on white
  QCOMPARE(at(drawing, 110, 50), 255);  // that ends where the mouse was released
}

void TestImageCanvas::scribbleIsDrawnBlackOnWhiteAndSentInverted() {
  mCanvas->setLayer(Layer::Scribble);
  mCanvas->paintStroke({QPointF(10, 30), QPointF(110, 30)});
  const QImage drawing = mCanvas->scribbleDrawing();
  const QImage map = mCanvas->scribbleControlMap();
  QCOMPARE(drawing.format(), QImage::Format_Grayscale8);
  QCOMPARE(map.format(), QImage::Format_Grayscale8);
  QCOMPARE(drawing.size(), QSize(128, 96));
  QCOMPARE(map.size(), QSize(128, 96));
  QCOMPARE(at(drawing, 60, 30), 0);
  QCOMPARE(at(drawing, 60, 80), 255);
  QCOMPARE(at(map, 60, 30), 255);
  QCOMPARE(at(map, 60, 80), 0);
  QCOMPARE(mCanvas->scribble(), map);
  for (int y = 0; y < 96; y += 7) {
    for (int x = 0; x < 128; x += 5) QCOMPARE(at(map, x, y), 255 - at(drawing, x, y));
  }
  // Seen as drawn: black lines on the white sheet over the image.
  const QImage shot = mCanvas->grab().toImage();
  const QPointF onLine = mCanvas->mapFromImage(QPointF(60, 30));
  const QPointF offLine = mCanvas->mapFromImage(QPointF(60, 80));
  QVERIFY(qGray(shot.pixel(onLine.toPoint())) < 40);
  QVERIFY(qGray(shot.pixel(offLine.toPoint())) > 200);
}

void TestImageCanvas::eraserAndUndoOnTheScribble() {
  mCanvas->setLayer(Layer::Scribble);
  mCanvas->setBrushSize(6);
  mCanvas->paintStroke({QPointF(10, 30), QPointF(110, 30)});
  mCanvas->paintStroke({QPointF(60, 10), QPointF(60, 90)});
  QCOMPARE(mCanvas->undoStack()->count(), 2);
  mCanvas->setTool(Tool::Eraser);
  mCanvas->setBrushSize(20);
  mCanvas->paintStroke({QPointF(30, 30)});
  QCOMPARE(at(mCanvas->scribbleDrawing(), 30, 30), 255);
  QCOMPARE(at(mCanvas->scribbleDrawing(), 90, 30), 0);
  QCOMPARE(mCanvas->undoStack()->count(), 3);
  mCanvas->undoStack()->undo();
  QCOMPARE(at(mCanvas->scribbleDrawing(), 30, 30), 0);
  mCanvas->undoStack()->undo();  // the vertical line
  QCOMPARE(at(mCanvas->scribbleDrawing(), 60, 80), 255);
  QCOMPARE(at(mCanvas->scribbleDrawing(), 30, 30), 0);
  mCanvas->undoStack()->undo();
  QVERIFY(!mCanvas->hasScribble());
  mCanvas->undoStack()->redo();
  QCOMPARE(at(mCanvas->scribbleDrawing(), 30, 30), 0);
  QVERIFY(!mCanvas->hasMask());
}

void TestImageCanvas::undoSwitchesToTheLayerItChanges() {
  mCanvas->paintStroke({QPointF(20, 20)});
  mCanvas->setLayer(Layer::Scribble);
  mCanvas->paintStroke({QPointF(80, 80)});
  QCOMPARE(mCanvas->undoStack()->count(), 2);
  mCanvas->undoStack()->undo();
  QCOMPARE(mCanvas->layer(), Layer::Scribble);
  QVERIFY(!mCanvas->hasScribble());
  QVERIFY(mCanvas->hasMask());
  QSignalSpy layers(mCanvas.get(), &ImageCanvas::layerChanged);
  mCanvas->undoStack()->undo();
  QCOMPARE(mCanvas->layer(), Layer::Mask);
  QCOMPARE(layers.count(), 1);
  QVERIFY(!mCanvas->hasMask());
}

void TestImageCanvas::eachLayerKeepsItsBrush() {
  mCanvas->setBrushSize(40);
  mCanvas->setBrushHardness(0.3);
  QSignalSpy sizes(mCanvas.get(), &ImageCanvas::brushSizeChanged);
  mCanvas->setLayer(Layer::Scribble);
  QCOMPARE(sizes.count(), 1);
  QVERIFY(mCanvas->brushSize() < 16);
  QCOMPARE(mCanvas->brushHardness(), 1.0);
  mCanvas->setBrushSize(3);
  mCanvas->setLayer(Layer::Mask);
  QCOMPARE(mCanvas->brushSize(), 40);
  QCOMPARE(mCanvas->brushHardness(), 0.3);
  QCOMPARE(sizes.last().at(0).toInt(), 40);
  mCanvas->setLayer(Layer::Scribble);
  QCOMPARE(mCanvas->brushSize(), 3);
  // The bracket keys change the active layer's brush.
  QTest::keyClick(mCanvas.get(), Qt::Key_BracketRight);
  QCOMPARE(mCanvas->brushSize(), 4);
}

void TestImageCanvas::loadAndClearScribble() {
  mCanvas->setLayer(Layer::Scribble);
  // Black on white, half the size: scaled to the image.
  QImage drawn = gray(64, 48, 255);
  for (int y = 8; y <= 12; ++y) {
    for (int x = 0; x < 64; ++x) drawn.setPixelColor(x, y, Qt::black);
  }
  mCanvas->setScribble(drawn);
  QCOMPARE(at(mCanvas->scribbleDrawing(), 64, 20), 0);
  QCOMPARE(at(mCanvas->scribbleDrawing(), 64, 60), 255);
  QCOMPARE(mCanvas->undoStack()->count(), 1);
  // White on black, as a control map comes back.
  QImage map = gray(128, 96, 0);
  for (int y = 0; y < 96; ++y) map.setPixelColor(100, y, Qt::white);
  mCanvas->setScribble(map, ImageCanvas::Polarity::WhiteOnBlack);
  QCOMPARE(at(mCanvas->scribbleControlMap(), 100, 50), 255);
  QCOMPARE(at(mCanvas->scribbleControlMap(), 64, 20), 0);
  // Lines on transparency: only the opaque lines count.
  QImage lines(128, 96, QImage::Format_ARGB32);
  lines.fill(Qt::transparent);
  for (int x = 0; x < 128; ++x) lines.setPixelColor(x, 70, Qt::black);
  mCanvas->setScribble(lines);
  QCOMPARE(at(mCanvas->scribbleControlMap(), 50, 70), 255);
  QCOMPARE(at(mCanvas->scribbleControlMap(), 50, 20), 0);
  QVERIFY(!mCanvas->hasMask());

  mCanvas->clearScribble();
  QVERIFY(!mCanvas->hasScribble());
  QCOMPARE(mCanvas->undoStack()->count(), 4);
  mCanvas->undoStack()->undo();
  QCOMPARE(at(mCanvas->scribbleControlMap(), 50, 70), 255);
  mCanvas->undoStack()->undo();
  QCOMPARE(at(mCanvas->scribbleControlMap(), 100, 50), 255);
}

void TestImageCanvas::keepMaskKeepsBothLayers() {
  mCanvas->paintStroke({QPointF(20, 20)});
  mCanvas->setLayer(Layer::Scribble);
  mCanvas->paintStroke({QPointF(80, 80)});
  mCanvas->setImage(gray(128, 96, 30), true);
  QVERIFY(mCanvas->hasMask());
  QVERIFY(mCanvas->hasScribble());
  mCanvas->setImage(gray(64, 64, 30), true);
  QVERIFY(!mCanvas->hasMask());
  QVERIFY(!mCanvas->hasScribble());
  QCOMPARE(mCanvas->scribbleDrawing().size(), QSize(64, 64));
  QCOMPARE(mCanvas->undoStack()->count(), 0);
}

QTEST_MAIN(TestImageCanvas)
#include "test_image_canvas.moc"
