#pragma once

#include <QHttpServerResponse>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

class AuthService;
class Metrics;
class QHttpServerRequest;

// A wire dialect: the paths, request fields and response envelopes of one family of servers,
// mapped onto the AuthService core operations. Only `latchkey` exists today; the seed dialects
// (innhotel, hotel-reviews, schedule-manager) and an OAuth2 token endpoint plug in here.
class Dialect
{
public:
    virtual ~Dialect();

    virtual QString name() const = 0;

    // Answers a request for one of this dialect's paths; std::nullopt when the path is not one
    // of them (the server then answers 404).
    virtual std::optional<QHttpServerResponse> handle(const QHttpServerRequest &request) = 0;

    static QStringList availableNames();
    static std::unique_ptr<Dialect> create(
        const QString &name, AuthService &auth, Metrics &metrics);
};
