#include "demoseeder.h"

#include "authservice.h"
#include "serverlog.h"

namespace {
struct DemoBooking
{
    const char *hotel;
    const char *checkIn;
    const char *checkOut;
    int guests;
};

struct DemoUser
{
    const char *email;
    const char *password;
    const char *firstName;
    const char *lastName;
    const char *role;
    QList<DemoBooking> bookings;
};
} // namespace

bool DemoSeeder::seed(AuthService &auth, QString *error)
{
    const DemoUser users[] = {
        { "guest@latchkey.test", "Guest-2026!", "Grace", "Guest", "guest",
            { { "Harbour View Hotel", "2026-03-02", "2026-03-05", 2 },
                { "Alpine Lodge", "2026-07-14", "2026-07-21", 3 } } },
        { "manager@latchkey.test", "Manager-2026!", "Max", "Manager", "manager",
            { { "Grand Central Hotel", "2026-02-10", "2026-02-12", 1 },
                { "Seaside Inn", "2026-05-01", "2026-05-04", 2 },
                { "City Loft Suites", "2026-09-20", "2026-09-22", 1 } } },
        // The account of a headless service (demo-app/service-bot): no bookings of its own.
        { "bot@latchkey.test", "Bot-2026!", "Service", "Bot", "guest", {} },
    };
    for (const DemoUser &demo : users) {
        const QString email = QString::fromLatin1(demo.email);
        if (auth.database().userByEmail(email))
            continue;
        RegisterRequest request;
        request.email = email;
        request.password = QString::fromLatin1(demo.password);
        request.firstName = QString::fromLatin1(demo.firstName);
        request.lastName = QString::fromLatin1(demo.lastName);
        const RegisterResult result
            = auth.registerUser(request, { QString::fromLatin1(demo.role) });
        if (result.status != RegisterResult::Status::Created) {
            *error = QStringLiteral("cannot create demo user %1").arg(email);
            return false;
        }
        for (const DemoBooking &b : demo.bookings) {
            BookingRecord booking;
            booking.userId = result.user.id;
            booking.hotel = QString::fromLatin1(b.hotel);
            booking.checkIn = QDate::fromString(QString::fromLatin1(b.checkIn), Qt::ISODate);
            booking.checkOut = QDate::fromString(QString::fromLatin1(b.checkOut), Qt::ISODate);
            booking.guests = b.guests;
            auth.database().insertBooking(booking);
        }
        qCInfo(lcServer) << "seeded demo user" << email;
    }
    return true;
}
