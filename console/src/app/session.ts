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
