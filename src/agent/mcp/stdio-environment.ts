/** What a process needs to run; everything else in the service's environment (its secrets) stays out. */
export const INHERITED_ENV_VARS = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SHELL', 'USER', 'TERM'] as const;

export function stdioEnvironment(
  definitionEnv: Record<string, string> = {},
  serviceEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV_VARS) {
    const value = serviceEnv[key];
    // A value starting with "()" is an exported shell function: code, not configuration.
    if (value !== undefined && !value.startsWith('()')) env[key] = value;
  }
  return { ...env, ...definitionEnv };
}
