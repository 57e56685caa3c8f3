#pragma once

#include <QString>
#include <QStringList>

// The password rules of the schedule-manager seed: length, character classes, not common.
class PasswordPolicy
{
public:
    static constexpr int MinimumLength = 8;
    static constexpr int MaximumLength = 1024;

    // The requirements the password fails, in a fixed order; empty when it is acceptable.
    static QStringList unmetRequirements(const QString &password);
    // Every requirement, for documentation and error bodies.
    static QStringList allRequirements();
};
