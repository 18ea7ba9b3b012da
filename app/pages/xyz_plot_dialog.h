#pragma once
// "X/Y/Z Plot…" on the Generate page: up to three axes (kind + values, as kiln-cli's --x/--y/--z
// take them), checked as they are typed, with the number of images the plot makes.

#include <QDialog>

#include <array>
#include <optional>

#include "bridge/xyz_grid.h"

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace kiln::app {

class XyzPlotDialog : public QDialog {
  Q_OBJECT

 public:
  explicit XyzPlotDialog(QWidget* parent = nullptr);
  // X, Y, Z (nothing where the row is "None"); valid when the dialog was accepted.
  std::array<std::optional<bridge::GridAxis>, 3> axes() const;
  void setAxisText(int row, const QString& text);  // "steps:10,20"

 private:
  void update();

  std::array<QComboBox*, 3> mKinds{};
  std::array<QLineEdit*, 3> mValues{};
  QLabel* mSummary;
  QDialogButtonBox* mButtons;
};

}  // namespace kiln::app
