// The desktop app's API server (File > API Server…): off by default; turned on in the settings it
// listens, shows its address in the status bar, lists the library's models and generates on the
// Generate page's own engine worker (one engine, one loaded model); turned off it stops. The
// dialog refuses an address that is not one and warns about a network address without a password.
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "api/api_server.h"
#include "base/engine.h"
#include "jobs/engine_worker.h"
#include "main_window.h"
#include "pages/api_server_dialog.h"
#include "pages/gallery_model.h"
#include "pages/generate_page.h"
#include "widgets/prompt_edit.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/language.h"

using kiln::app::ApiServerSettings;
using kiln::app::AppSettings;
using kiln::app::MainWindow;

namespace {

const QString kGolden = QStringLiteral(KILN_TEST_DATA "/golden/pipeline");

// One HTTP exchange, waited for; the status (0 when nothing answered) and the JSON body.
std::pair<int, QJsonDocument> call(QNetworkAccessManager& net, const QString& url, const QByteArray& post = {}) {
  QNetworkRequest request{QUrl(url)};
  request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  QNetworkReply* reply = post.isNull() ? net.get(request) : net.post(request, post);
  QSignalSpy done(reply, &QNetworkReply::finished);
  if (!reply->isFinished()) done.wait(120000);
  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  const QJsonDocument body = QJsonDocument::fromJson(reply->readAll());
  reply->deleteLater();
  return {status, body};
}

}  // namespace

class TestApiServerSetting : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    kiln::init_engine();
    QVERIFY(!kiln::app::Language::install(QStringLiteral("en")));
  }

  void offByDefaultOnWhenSetAndSharesTheGenerateEngine() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("settings.ini")));
    QVERIFY(!settings.apiServer().enabled);
    {
      MainWindow window(&settings);
      QVERIFY(window.apiServer() == nullptr);
      QVERIFY(window.findChild<QLabel*>(QStringLiteral("apiStatus"))->isHidden());
    }

    ApiServerSettings on;
    on.enabled = true;
    on.port = 0;  // any free port
    settings.setApiServer(on);
    MainWindow window(&settings);
    window.show();
    QVERIFY(window.apiServer() != nullptr);
    const QString address = window.apiServerAddress();
    QVERIFY2(address.startsWith(QStringLiteral("http://127.0.0.1:")), qPrintable(address));
    auto* status = window.findChild<QLabel*>(QStringLiteral("apiStatus"));
    QVERIFY(!status->isHidden());
    QCOMPARE(status->text(), QStringLiteral("API: ") + address);

    // The library's folders are what it lists.
    window.library()->addFolder(kGolden);
    QTRY_VERIFY_WITH_TIMEOUT(window.library()->hasScanned() && !window.library()->isBusy(), 120000);
    QNetworkAccessManager net;
    auto [code, models] = call(net, address + QStringLiteral("/sdapi/v1/sd-models"));
    QCOMPARE(code, 200);
    QStringList names;
    for (const QJsonValue& m : models.array()) names << m.toObject().value(QStringLiteral("model_name")).toString();
    QVERIFY2(names.contains(QStringLiteral("tiny_sd1")), qPrintable(names.join(QLatin1Char(','))));

    // Generation runs on the Generate page's worker, with the API's own job ids.
    QSignalSpy started(window.generatePage()->worker(), &kiln::app::EngineWorker::started);
    const QByteArray request = QJsonDocument(QJsonObject{{QStringLiteral("prompt"), QStringLiteral("a red fox")},
                                                         {QStringLiteral("steps"), 2},
                                                         {QStringLiteral("width"), 64},
                                                         {QStringLiteral("height"), 64},
                                                         {QStringLiteral("seed"), 5},
                                                         {QStringLiteral("override_settings"),
                                                          QJsonObject{{QStringLiteral("sd_model_checkpoint"), QStringLiteral("tiny_sd1")}}}})
                                   .toJson();
    auto [genCode, result] = call(net, address + QStringLiteral("/sdapi/v1/txt2img"), request);
    QCOMPARE(genCode, 200);
    QCOMPARE(result.object().value(QStringLiteral("images")).toArray().size(), 1);
    QCOMPARE(started.size(), 1);
    QVERIFY(started.at(0).at(0).toULongLong() >= kiln::api::ApiServer::kSharedJobIds);
    QVERIFY(!window.generatePage()->isGenerating());  // the page's own state is untouched

    // A Generate pressed while a client's request runs waits behind it, and says so.
    QJsonObject longer = QJsonDocument::fromJson(request).object();
    longer.insert(QStringLiteral("steps"), 300);
    QNetworkRequest post{QUrl(address + QStringLiteral("/sdapi/v1/txt2img"))};
    post.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    QNetworkReply* pending = net.post(post, QJsonDocument(longer).toJson());
    QTRY_VERIFY_WITH_TIMEOUT(started.size() == 2, 60000);
    window.generatePage()->promptEdit()->setPlainText(QStringLiteral("a blue fox"));
    window.generatePage()->generateAction()->trigger();
    QVERIFY(window.generatePage()->isGenerating());
    QCOMPARE(window.generatePage()->statusLabel()->text(), QStringLiteral("Waiting for the API server's request to finish…"));
    QTRY_VERIFY_WITH_TIMEOUT(pending->isFinished(), 120000);
    QCOMPARE(pending->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    pending->deleteLater();
    QTRY_VERIFY_WITH_TIMEOUT(!window.generatePage()->isGenerating(), 120000);
    QCOMPARE(window.generatePage()->gallery()->rowCount(), 1);

    // Off: stopped, nothing listens, the status bar says nothing.
    on.enabled = false;
    settings.setApiServer(on);
    QVERIFY(window.applyApiServer().isEmpty());
    QVERIFY(window.apiServer() == nullptr);
    QVERIFY(status->isHidden());
    QCOMPARE(call(net, address + QStringLiteral("/sdapi/v1/sd-models")).first, 0);
  }

  void aBusyPortIsReported() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("settings.ini")));
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost, 0));
    ApiServerSettings on;
    on.enabled = true;
    on.port = taken.serverPort();
    settings.setApiServer(on);
    MainWindow window(&settings);
    QVERIFY(window.apiServer() == nullptr);
    QVERIFY(window.applyApiServer().contains(QStringLiteral("cannot listen")));
    QCOMPARE(window.findChild<QLabel*>(QStringLiteral("apiStatus"))->text(), QStringLiteral("API: off"));
  }

  void theDialogChecksWhatIsTyped() {
    ApiServerSettings s;
    kiln::app::ApiServerDialog dialog(s);
    auto* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    auto* note = dialog.findChild<QLabel*>(QStringLiteral("apiNote"));
    dialog.findChild<QCheckBox*>(QStringLiteral("apiEnabled"))->setChecked(true);
    QVERIFY(ok->isEnabled());
    QCOMPARE(note->text(), QStringLiteral("Clients connect to http://127.0.0.1:7860"));
    dialog.findChild<QLineEdit*>(QStringLiteral("apiHost"))->setText(QStringLiteral("my laptop"));
    QVERIFY(!ok->isEnabled());
    QVERIFY(note->text().startsWith(QStringLiteral("Address:")));
    dialog.findChild<QLineEdit*>(QStringLiteral("apiHost"))->setText(QStringLiteral("0.0.0.0"));
    QVERIFY(ok->isEnabled());
    QVERIFY(note->text().startsWith(QStringLiteral("Warning:")));
    dialog.findChild<QLineEdit*>(QStringLiteral("apiAuth"))->setText(QStringLiteral("nocolon"));
    QVERIFY(!ok->isEnabled());
    dialog.findChild<QLineEdit*>(QStringLiteral("apiAuth"))->setText(QStringLiteral("me:secret"));
    QVERIFY(ok->isEnabled());
    QCOMPARE(dialog.settings().auth, QStringLiteral("me:secret"));
    QCOMPARE(dialog.settings().host, QStringLiteral("0.0.0.0"));
    QVERIFY(dialog.settings().enabled);
  }
};

QTEST_MAIN(TestApiServerSetting)
#include "test_api_server_setting.moc"
