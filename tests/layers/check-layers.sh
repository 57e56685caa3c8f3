#!/usr/bin/env bash
# check-layers.sh SDK_DIR — the SDK's includes point down, never up (docs/architecture.md,
# "Layers"). Each source and header of sdk/src and sdk/include/latchkey belongs to one layer;
# an include of a file in a layer it may not see fails the check, naming both files.
set -euo pipefail
sdk=${1:?usage: check-layers.sh SDK_DIR}

declare -A layer=(
  # base: values and facilities every layer uses
  [clock]=base [tokenset]=base [jwtclaims]=base [jsonpointer]=base [logging]=base
  [reachability]=base [autherror]=base [serverprofile]=base [latchkey_export]=base
  [deviceauthorization]=base [apiurl]=base
  # where a service's credentials come from (the keychain's through a TokenStore: store)
  [credentialsprovider]=base [environmentcredentials]=base [filecredentials]=base
  # wire: the auth exchanges a profile describes
  [wireformat]=wire [authcall]=wire
  # oidc: an OpenID provider's sign-ins up to the tokens (discovery, PKCE, redirect, device)
  [oidcmetadata]=oidc [authorizationrequest]=oidc [idtoken]=oidc [loopbackreceiver]=oidc
  [devicegrant]=oidc [oidcsignin]=oidc
  # core: the session state machine
  [sessioncore]=core
  # store: where the refresh token lives, and the lock around it
  [storequeue]=store [sharedrefreshlock]=store [ownedlockfile]=store [secretservice]=store
  [tokenstore]=store [keychaintokenstore]=store [memorytokenstore]=store
  [keychaincredentials]=store
  # net: the reply the caller holds
  [retryingreply]=net [requestgate]=net
  # facade: what an application uses, and the refresh it runs
  [authclient]=facade [authclient_oidc]=facade [authorizednetworkaccessmanager]=facade [refreshcoordinator]=facade
  [authreply]=facade [autosignin]=facade
)
declare -A sees=(
  [base]="base"
  [wire]="base wire"
  [oidc]="base wire oidc"
  [core]="base wire core"
  [store]="base store"
  [net]="base wire core net"
  [facade]="base wire oidc core store net facade"
)

name_of() { local n=${1##*/}; n=${n%.*}; echo "${n%_p}"; }

bad=0 checked=0
for file in "$sdk"/src/*.cpp "$sdk"/src/*.h "$sdk"/include/latchkey/*.h; do
  own=$(name_of "$file")
  from=${layer[$own]:-}
  if [ -z "$from" ]; then
    echo "check-layers: $file belongs to no layer: add it to tests/layers/check-layers.sh" >&2
    bad=1
    continue
  fi
  while IFS= read -r inc; do
    target=$(name_of "$inc")
    to=${layer[$target]:-}
    [ -n "$to" ] || continue # Qt, QtKeychain, the standard library
    checked=$((checked + 1))
    case " ${sees[$from]} " in
      *" $to "*) ;;
      *) echo "check-layers: ${file#"$sdk"/} ($from) includes $inc ($to): $from may see only ${sees[$from]}" >&2
         bad=1 ;;
    esac
  done < <(sed -n 's/^#include [<"]\(latchkey\/\)\{0,1\}\([a-z_]*\.h\)[>"].*/\2/p' "$file")
done
if [ "$bad" -ne 0 ]; then
  echo "check-layers: FAILED" >&2
  exit 1
fi
echo "check-layers: $checked includes between SDK files, all pointing down"
