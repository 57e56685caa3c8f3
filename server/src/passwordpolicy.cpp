#include "passwordpolicy.h"

#include <QSet>

namespace {
const QString lengthRule = QStringLiteral("Must be at least 8 characters long");
const QString upperRule = QStringLiteral("Must contain uppercase letters");
const QString lowerRule = QStringLiteral("Must contain lowercase letters");
const QString digitRule = QStringLiteral("Must contain numbers");
const QString specialRule = QStringLiteral("Must contain special characters");
const QString commonRule = QStringLiteral("Must not be a common password");
const QString maxLengthRule = QStringLiteral("Must be at most 1024 characters long");

// Frequent passwords from breach lists, including the ones that satisfy the character rules.
bool isCommon(const QString &password)
{
    static const QSet<QString> common = [] {
        QSet<QString> set;
        for (const char *word : { "password", "password1", "password123", "password1!",
                 "password123!", "p@ssw0rd", "p@ssw0rd1", "p@ssw0rd!", "p@ssword1", "passw0rd",
                 "passw0rd!", "123456", "12345678", "123456789", "1234567890", "qwerty",
                 "qwerty123", "qwerty123!", "qwerty1!", "letmein", "letmein1!", "welcome",
                 "welcome1", "welcome1!", "welcome123!", "admin", "admin123", "admin123!",
                 "admin@123", "iloveyou", "iloveyou1!", "monkey", "dragon", "sunshine",
                 "sunshine1!", "football", "football1!", "baseball", "princess", "abc123",
                 "abc123!", "abcd1234!", "changeme", "changeme1!", "summer2024!", "winter2024!",
                 "spring2024!", "autumn2024!", "test1234!", "trustno1", "master", "secret",
                 "secret123!", "zaq12wsx", "1qaz2wsx", "1q2w3e4r", "1q2w3e4r!", "q1w2e3r4!" })
            set.insert(QString::fromLatin1(word));
        return set;
    }();
    return common.contains(password.toLower());
}
} // namespace

QStringList PasswordPolicy::unmetRequirements(const QString &password)
{
    bool upper = false, lower = false, digit = false, special = false;
    for (const QChar c : password) {
        if (c.isUpper())
            upper = true;
        else if (c.isLower())
            lower = true;
        else if (c.isDigit())
            digit = true;
        else if (!c.isSpace() && !c.isLetter())
            special = true;
    }
    QStringList unmet;
    if (password.size() < MinimumLength)
        unmet << lengthRule;
    if (password.size() > MaximumLength)
        unmet << maxLengthRule;
    if (!upper)
        unmet << upperRule;
    if (!lower)
        unmet << lowerRule;
    if (!digit)
        unmet << digitRule;
    if (!special)
        unmet << specialRule;
    if (isCommon(password))
        unmet << commonRule;
    return unmet;
}

QStringList PasswordPolicy::allRequirements()
{
    return { lengthRule, upperRule, lowerRule, digitRule, specialRule, commonRule };
}
