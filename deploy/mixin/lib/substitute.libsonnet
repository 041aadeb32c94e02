// Applies a _config to rule groups parsed from the plain rule files.
//
// groups:     the `groups` of a rule file (std.parseYaml)
// thresholds: { AlertName: [[field, template], ...] }, field is `expr` or an
//             annotation; template is a std.format template over _config
//             (e.g. '< %(licenseExpiryWarningDays)g * 86400')
// defaults:   the shipped _config: template % defaults is the text the rule
//             file must contain exactly once in that field
// config:     the user's _config: template % config replaces it
// selectorKey: the _config key of the job selector, replaced in every expr
// requireSelector: whether the file must use the default selector at least once
//
// Any mismatch between the rule file and the table is an evaluation error
// naming the alert, the field and the expected text, so the two cannot
// drift apart silently.
// count: occurrences of sub in s (std.split is native in go-jsonnet and
// C++ jsonnet; std.findSubstr is not, and is slow on long expressions).
local count(sub, s) = std.length(std.split(s, sub)) - 1;

{
  substitute(file, groups, thresholds, defaults, config, selectorKey, requireSelector)::
    local alertNames = [r.alert for g in groups for r in g.rules if std.objectHas(r, 'alert')];
    local unknown = std.setDiff(std.set(std.objectFields(thresholds)), std.set(alertNames));
    local selectorCount = std.foldl(
      function(n, r) n + count(defaults[selectorKey], r.expr),
      [r for g in groups for r in g.rules],
      0
    );
    local field(r, f) = if f == 'expr' then r.expr else r.annotations[f];
    local one(r, s) =
      local from = s[1] % defaults, to = s[1] % config;
      local n = count(from, field(r, s[0]));
      if n != 1 then
        error "%s: alert %s: its %s must contain %s exactly once (found %d times); update the thresholds of deploy/mixin/alerts/alerts.libsonnet or _config's defaults in deploy/mixin/config.libsonnet to match" % [file, r.alert, s[0], std.manifestJson(from), n]
      else if s[0] == 'expr' then r { expr: std.strReplace(r.expr, from, to) }
      else r { annotations+: { [s[0]]: std.strReplace(r.annotations[s[0]], from, to) } };
    local rule(r) =
      local sel = r { expr: std.strReplace(r.expr, defaults[selectorKey], config[selectorKey]) };
      if std.objectHas(r, 'alert') && std.objectHas(thresholds, r.alert)
      then std.foldl(one, thresholds[r.alert], sel)
      else sel;
    if std.length(unknown) > 0 then
      error '%s has no alert %s (named in the thresholds of deploy/mixin/alerts/alerts.libsonnet)' % [file, std.join(', ', unknown)]
    else if requireSelector && selectorCount == 0 then
      error "%s: no rule selects %s (_config.%s's default): the mixin could not apply the job selector" % [file, defaults[selectorKey], selectorKey]
    else [g { rules: [rule(r) for r in g.rules] } for g in groups],
}
