#pragma once

#include <QByteArray>
#include <QImage>

// A per-user picture for the protected GET /api/user/avatar: a 5×5 symmetric identicon drawn
// from the SHA-256 of the user id, so the same user always gets the same picture and two users
// almost never share one. Pixels only (no text, no fonts), so it needs QtGui's QImage and PNG
// writer but no QGuiApplication: it works in a headless server.
namespace Avatar {

constexpr int gridSize = 5;
constexpr int defaultCellPixels = 32;

// The picture of user \a userId: (gridSize + 1) × cellPixels square, half a cell of margin.
QImage identicon(qint64 userId, int cellPixels = defaultCellPixels);
QByteArray png(qint64 userId, int cellPixels = defaultCellPixels);

} // namespace Avatar
