#pragma once

#include <QString>

class AuthService;

// Creates the demo accounts and their bookings (--seed-demo). Idempotent: an existing account
// is left alone, bookings are added only to an account created now.
//   guest@latchkey.test / Guest-2026!     Grace Guest, role guest
//   manager@latchkey.test / Manager-2026! Max Manager, role manager
//   bot@latchkey.test / Bot-2026!         Service Bot, role guest (a headless service's account)
class DemoSeeder
{
public:
    static bool seed(AuthService &auth, QString *error);
};
