"""What an operator pastes into their pages and backends, with this site's key
and this API's public base URL filled in. The secret is never in a snippet (the
dashboard never holds it): a placeholder stands where the backend puts it.

The two-URL switch (docs/captcha.md): a page and a backend written for
reCAPTCHA or Turnstile keep everything but the script URL and the verify URL.
"""
from __future__ import annotations

SNIPPET_CAPTCHA_HASHES = 4194304  # captcha.js's default: a few seconds in a browser
SECRET_PLACEHOLDER = "YOUR_SECRET"

# vendor -> (script path, verify path, widget class, form field, vendor's script, vendor's verify)
SWITCH = {
    "recaptcha": ("/recaptcha/api.js", "/recaptcha/api/siteverify", "g-recaptcha",
                  "g-recaptcha-response", "https://www.google.com/recaptcha/api.js",
                  "https://www.google.com/recaptcha/api/siteverify"),
    "turnstile": ("/turnstile/v0/api.js", "/turnstile/v0/siteverify", "cf-turnstile",
                  "cf-turnstile-response", "https://challenges.cloudflare.com/turnstile/v0/api.js",
                  "https://challenges.cloudflare.com/turnstile/v0/siteverify"),
}


def switch_snippets(api: str, site_key: str, vendor: str) -> tuple[str, str]:
    """(front end, backend) of the two-URL switch from `vendor`."""
    script, verify, widget, field, their_script, their_verify = SWITCH[vendor]
    front = (
        f'<!-- was {their_script} -->\n'
        f'<script src="{api}{script}" async defer></script>\n'
        f'<form action="/your-form-handler" method="post">\n'
        f'  <!-- your fields -->\n'
        f'  <div class="{widget}" data-sitekey="{site_key}"></div>\n'
        f'  <button type="submit">Send</button>\n'
        f'</form>\n')
    back = (
        f'# Your backend: the same verify call, at this URL instead of\n'
        f'# {their_verify}\n'
        f'# (the form field {field} holds the token; the secret is yours, never shown here)\n'
        f'curl -d "secret={SECRET_PLACEHOLDER}" -d "response=$TOKEN" \\\n'
        f'  {api}{verify}\n'
        f'# {{"success":true,"challenge_ts":"…","hostname":"…","hashes":…,"action":"",'
        f'"cdata":"","error-codes":[]}}\n')
    return front, back


def snippets(api: str, site_key: str) -> dict[str, str]:
    """Every snippet the Settings view shows, by name."""
    captcha = (
        f'<form action="/your-form-handler" method="post">\n'
        f'  <!-- your fields -->\n'
        f'  <div class="workproof-captcha" data-key="{site_key}" '
        f'data-hashes="{SNIPPET_CAPTCHA_HASHES}"></div>\n'
        f'  <button type="submit">Send</button>\n'
        f'</form>\n'
        f'<script src="{api}/lib/captcha.js" async></script>\n'
        f'<!-- Your server checks the form field coinhive-captcha-token once:\n'
        f'     POST {api}/token/verify  secret={SECRET_PLACEHOLDER} token=… '
        f'hashes={SNIPPET_CAPTCHA_HASHES} -->\n')
    miner = (
        f'<script src="{api}/lib/workproof.js"></script>\n'
        f'<script>\n'
        f'  // Credits the hashes to this user: {api}/user/balance?name=…\n'
        f'  var miner = new WorkProof.User("{site_key}", "USER-NAME");\n'
        f'  miner.start();\n'
        f'</script>\n')
    found = {"captcha": captcha, "miner": miner}
    for vendor in SWITCH:
        found[f"{vendor}Front"], found[f"{vendor}Back"] = switch_snippets(api, site_key, vendor)
    return found
