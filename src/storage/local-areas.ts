import path from 'node:path';

/**
 * Where a project's Local storage accounts may point. Every root in REEL_LOCAL_STORAGE_ROOTS is shared by all
 * projects, so each project gets only its own sub-directory `<root>/<project name>` of it, plus the directories
 * the operator grants it (REEL_LOCAL_STORAGE_GRANTS). The driver confines an account to these after following
 * symlinks, so no account can reach another project's files, whenever it was created.
 */
export interface LocalAreaSettings {
  roots: readonly string[];
  grants: ReadonlyArray<{ project: string; path: string }>;
}

/**
 * A project name usable as one directory name on every file system Reel runs on: no separators, no `.`/`..`,
 * nothing a shell or Windows would read differently. Projects named otherwise have no area under the roots.
 */
export function isSafePathSegment(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name);
}

/**
 * The directories a project's Local accounts may use (absolute, normalised). A directory the operator granted to
 * another project wins over the area it lies in or contains: that part of the root is no longer this project's.
 */
export function localAreasOf(projectName: string, settings: LocalAreaSettings): string[] {
  const grantedElsewhere = settings.grants.filter((g) => g.project !== projectName).map((g) => path.resolve(g.path));
  const own = (isSafePathSegment(projectName) ? settings.roots.map((root) => path.join(path.resolve(root), projectName)) : []).filter(
    (area) => !grantedElsewhere.some((g) => inside(g, area) || inside(area, g)),
  );
  const granted = settings.grants.filter((g) => g.project === projectName).map((g) => path.resolve(g.path));
  return [...own, ...granted];
}

/** `child` is `parent` or lies below it (both absolute and normalised). */
function inside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}
