#pragma once
// The right side of the Generate page: the session's images, the parameters of the selected
// one, and what can be done with it (reuse its parameters, send it to image-to-image or
// inpainting, save it with its parameters, copy it).

#include <QWidget>

class QAction;
class QLabel;
class QPlainTextEdit;

namespace kiln::widgets {
class GalleryView;
}

namespace kiln::app {

class GalleryModel;
class GenerationSettings;

class GalleryPanel : public QWidget {
  Q_OBJECT

 public:
  GalleryPanel(GalleryModel* model, GenerationSettings* settings, QWidget* parent = nullptr);

  widgets::GalleryView* view() const { return mView; }
  // The selected image's row, -1 when none.
  int selectedRow() const;
  void selectRow(int row);

  QAction* reuseAction() const { return mReuse; }
  QAction* toImageToImageAction() const { return mToImageToImage; }
  QAction* toInpaintAction() const { return mToInpaint; }
  QAction* upscaleAction() const { return mUpscale; }

 public Q_SLOTS:
  void saveSelected();
  void copySelected();
  void copySelectedParameters();

 Q_SIGNALS:
  void selectionChanged(int row);
  void message(const QString& text);
  void failed(const QString& title, const QString& text, const QString& details);

 private:
  void updateSelection();

  GalleryModel* mModel;
  GenerationSettings* mSettings;
  QAction* mReuse;
  QAction* mToImageToImage;
  QAction* mToInpaint;
  QAction* mUpscale;
  QAction* mSave;
  QAction* mCopy;
  QAction* mCopyParameters;
  QAction* mRemove;
  QLabel* mCount;
  widgets::GalleryView* mView;
  QPlainTextEdit* mParameters;
};

}  // namespace kiln::app
