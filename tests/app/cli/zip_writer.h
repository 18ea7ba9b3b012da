#pragma once
// A minimal zip writer (stored entries) that writes names and sizes exactly as told, so that
// hostile archives can be made: no library would write them. Shared by the dataset and session
// import tests.

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QtTest>

#include <filesystem>

namespace kiln::test {

inline quint32 crc32(const QByteArray& data) {
  quint32 crc = 0xFFFFFFFFu;
  for (const char ch : data) {
    crc ^= static_cast<quint8>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

class ZipWriter {
 public:
  struct Entry {
    QByteArray name;
    QByteArray data;
    quint32 declaredSize = 0;  // uncompressed size in the headers (data.size() unless lying)
    bool symlink = false;
  };
  void add(const QByteArray& name, const QByteArray& data) {
    mEntries.push_back({name, data, static_cast<quint32>(data.size()), false});
  }
  void addLying(const QByteArray& name, const QByteArray& data, quint32 declared) {
    mEntries.push_back({name, data, declared, false});
  }
  void addSymlink(const QByteArray& name, const QByteArray& target) {
    mEntries.push_back({name, target, static_cast<quint32>(target.size()), true});
  }
  void write(const std::filesystem::path& path) const {
    QByteArray out, central;
    for (const Entry& e : mEntries) {
      const auto offset = static_cast<quint32>(out.size());
      const quint32 crc = crc32(e.data);
      // Local header: stored (method 0), no data descriptor.
      u32(out, 0x04034b50);
      u16(out, 10);
      u16(out, 0);
      u16(out, 0);
      u16(out, 0);
      u16(out, 0x21);
      u32(out, crc);
      u32(out, static_cast<quint32>(e.data.size()));
      u32(out, e.declaredSize);
      u16(out, static_cast<quint16>(e.name.size()));
      u16(out, 0);
      out += e.name;
      out += e.data;
      // Central directory entry; "made by" Unix (3) so that the mode bits count.
      u32(central, 0x02014b50);
      u16(central, (3 << 8) | 20);
      u16(central, 10);
      u16(central, 0);
      u16(central, 0);
      u16(central, 0);
      u16(central, 0x21);
      u32(central, crc);
      u32(central, static_cast<quint32>(e.data.size()));
      u32(central, e.declaredSize);
      u16(central, static_cast<quint16>(e.name.size()));
      u16(central, 0);
      u16(central, 0);
      u16(central, 0);
      u16(central, 0);
      u32(central, (e.symlink ? 0120777u : 0100644u) << 16);
      u32(central, offset);
      central += e.name;
    }
    const auto cdOffset = static_cast<quint32>(out.size());
    out += central;
    u32(out, 0x06054b50);
    u16(out, 0);
    u16(out, 0);
    u16(out, static_cast<quint16>(mEntries.size()));
    u16(out, static_cast<quint16>(mEntries.size()));
    u32(out, static_cast<quint32>(central.size()));
    u32(out, cdOffset);
    u16(out, 0);
    QFile f(QString::fromStdString(path.string()));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(out);
  }

 private:
  static void u16(QByteArray& b, quint16 v) {
    b.append(static_cast<char>(v & 0xff));
    b.append(static_cast<char>(v >> 8));
  }
  static void u32(QByteArray& b, quint32 v) {
    u16(b, static_cast<quint16>(v & 0xffff));
    u16(b, static_cast<quint16>(v >> 16));
  }
  QList<Entry> mEntries;
};

}  // namespace kiln::test
