#include "avatar.h"

#include <QBuffer>
#include <QColor>
#include <QCryptographicHash>

#include <algorithm>

namespace Avatar {

QImage identicon(qint64 userId, int cellPixels)
{
    const QByteArray seed = QByteArrayLiteral("latchkey-avatar:") + QByteArray::number(userId);
    const QByteArray hash = QCryptographicHash::hash(seed, QCryptographicHash::Sha256);
    const auto byte = [&hash](int i) { return quint8(hash.at(i)); };

    // Foreground: the hue from two bytes, saturated and mid-light so it reads on the light
    // background; the background a very light tint of the same hue.
    const int hue = ((byte(0) << 8) | byte(1)) % 360;
    const QColor foreground = QColor::fromHsl(hue, 150 + byte(2) % 80, 95 + byte(3) % 50);
    const QColor background = QColor::fromHsl(hue, 60, 238);

    const int margin = cellPixels / 2;
    const int side = gridSize * cellPixels + 2 * margin;
    QImage image(side, side, QImage::Format_RGB32);
    image.fill(background);

    // The left three columns come from 15 bits of the hash, the right two mirror them.
    const int half = (gridSize + 1) / 2;
    for (int row = 0; row < gridSize; ++row) {
        for (int column = 0; column < half; ++column) {
            const int bit = row * half + column;
            if (!(byte(4 + bit / 8) & (1 << (bit % 8))))
                continue;
            for (const int x : { column, gridSize - 1 - column }) {
                const int left = margin + x * cellPixels;
                const int top = margin + row * cellPixels;
                for (int y = top; y < top + cellPixels; ++y) {
                    auto *line = reinterpret_cast<QRgb *>(image.scanLine(y));
                    std::fill(line + left, line + left + cellPixels, foreground.rgb());
                }
            }
        }
    }
    return image;
}

QByteArray png(qint64 userId, int cellPixels)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    identicon(userId, cellPixels).save(&buffer, "PNG");
    return bytes;
}

} // namespace Avatar
