import { useQuery } from '@tanstack/react-query';
import { useParams } from 'react-router';
import { api, mediaPath } from '../api/client';
import type { ListBody, Organization, Profile } from '../api/types';

/** The signed-in user (`GET /api/v1/user/profile`); a 401 means no session. */
export function useProfile() {
  return useQuery({ queryKey: ['profile'], queryFn: () => api<Profile>('GET', '/api/v1/user/profile'), retry: false, staleTime: 60_000 });
}

/** Organizations the user belongs to, each with its projects (`GET /api/v1/user/organizations`). */
export function useOrganizations() {
  return useQuery({
    queryKey: ['organizations'],
    queryFn: async () => (await api<ListBody<Organization>>('GET', '/api/v1/user/organizations')).value,
    staleTime: 60_000,
  });
}

const projectKey = 'reel.console.project';
export const rememberProject = (name: string) => {
  try {
    localStorage.setItem(projectKey, name);
  } catch {
    /* private mode: nothing to remember */
  }
};
export const rememberedProject = (): string | null => {
  try {
    return localStorage.getItem(projectKey);
  } catch {
    return null;
  }
};

/** The project of the current route and its media API root. */
export function useProject(): { project: string; base: string } {
  const { project = '' } = useParams();
  return { project, base: mediaPath(project) };
}

/**
 * The caller's role in the active organization (`spec.role` of `GET /api/v1/user/organizations`): what the
 * console enables. The API decides in the end; a refused action shows its error.
 */
export function useOrgRole(): { role: string | undefined; isAdmin: boolean; canWrite: boolean } {
  const orgs = useOrganizations();
  const profile = useProfile();
  const role = orgs.data?.find((o) => o.metadata.id === profile.data?.spec.activeOrganizationId)?.spec.role;
  // Unknown role (still loading, or a server that does not say): leave it to the API.
  return { role, isAdmin: role === undefined || role === 'Admin', canWrite: role !== 'Reader' };
}

/** Forgets the remembered project (after it was deleted). */
export const forgetProject = (name: string) => {
  try {
    if (localStorage.getItem(projectKey) === name) localStorage.removeItem(projectKey);
  } catch {
    /* nothing remembered */
  }
};
