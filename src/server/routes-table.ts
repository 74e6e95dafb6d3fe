/** Every route's path and methods: a known path with another method is a 405 with Allow, not a 404. */
const ROUTES: ReadonlyArray<readonly [RegExp, readonly string[]]> = [
  [/^\/$/, ['GET']],
  [/^\/v1\/classify$/, ['POST']],
  [/^\/v1\/models$/, ['GET']],
  [/^\/v1\/models\/[^/]+\/recalibrate$/, ['POST']],
  [/^\/healthz$/, ['GET']],
  [/^\/readyz$/, ['GET']],
  [/^\/metrics$/, ['GET']],
  [/^\/v2$/, ['GET']],
  [/^\/v2\/health\/(live|ready)$/, ['GET']],
  [/^\/v2\/models\/[^/]+(\/versions\/[^/]+)?$/, ['GET']],
  [/^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/ready$/, ['GET']],
  [/^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer$/, ['POST']],
];

/** The methods `path` answers (GET brings HEAD), or undefined for an unknown path. */
export function allowedMethods(path: string): string[] | undefined {
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!route) return undefined;
  return route[1].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
}
