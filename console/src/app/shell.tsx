import { useEffect, useMemo, useState } from 'react';
import {
  Alert,
  Anchor,
  AppShell,
  Burger,
  Button,
  Center,
  Group,
  Loader,
  Menu,
  NavLink,
  ScrollArea,
  Select,
  Stack,
  Text,
  Title,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, Outlet, useLocation, useMatch, useNavigate, useRouteError } from 'react-router';
import { ApiError, api, errorText, setUnauthorizedHandler } from '../api/client';
import { ErrorState } from '../components/states';
import { rememberProject, rememberedProject, useOrganizations, useProfile } from './session';

const sections = [
  { path: 'assets', label: 'Assets' },
  { path: 'storage', label: 'Storage accounts' },
  { path: 'transforms', label: 'Transforms' },
  { path: 'jobs', label: 'Jobs' },
  { path: 'live-events', label: 'Live events' },
  { path: 'streaming-endpoints', label: 'Streaming endpoints' },
  { path: 'streaming-locators', label: 'Streaming locators' },
  { path: 'streaming-policies', label: 'Streaming policies' },
  { path: 'account-filters', label: 'Account filters' },
  { path: 'webhooks', label: 'Webhooks' },
  { path: 'usage', label: 'Usage' },
];

/** Pages of the organization rather than of one project. */
const organizationPages = [
  { to: '/projects', label: 'Projects' },
  { to: '/members', label: 'Members and roles' },
  { to: '/tokens', label: 'API tokens' },
];

/** The signed-in frame: header (project switcher, profile menu), navigation, and the page. */
export function Shell() {
  const profile = useProfile();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [opened, { toggle, close }] = useDisclosure(false);

  // Any 401 (session expired or signed out elsewhere) returns to sign-in, then back here.
  useEffect(() => {
    setUnauthorizedHandler(() => {
      queryClient.clear();
      navigate(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    });
    return () => setUnauthorizedHandler(undefined);
  }, [queryClient, navigate, location.pathname, location.search]);
  useEffect(close, [location.pathname, close]);

  if (profile.isPending)
    return (
      <Center h="100vh">
        <Loader aria-label="Loading your profile" />
      </Center>
    );
  if (profile.error instanceof ApiError && profile.error.status === 401) {
    return <Navigate to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (profile.isError) {
    return (
      <Center h="100vh" p="md">
        <ErrorState title="Could not load your profile" error={profile.error} onRetry={() => void profile.refetch()} />
      </Center>
    );
  }

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="xs" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Anchor component={Link} to="/" underline="never" c="inherit">
              <Title order={3}>Reel</Title>
            </Anchor>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ContextSwitcher />
            <ProfileMenu email={profile.data.spec.loginEmail} />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <AppShell.Section grow component={ScrollArea}>
          <ProjectNav />
        </AppShell.Section>
        <AppShell.Section hiddenFrom="sm" pt="xs">
          <ContextSwitcher stacked />
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        <InvitationsBanner />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

function ProjectNav() {
  const match = useMatch('/projects/:project/*');
  const project = match?.params.project ?? rememberedProject();
  const location = useLocation();
  return (
    <Stack gap={2} component="nav">
      {project ? (
        sections.map((s) => {
          const to = `/projects/${encodeURIComponent(project)}/${s.path}`;
          return <NavLink key={s.path} component={Link} to={to} label={s.label} active={location.pathname === to || location.pathname.startsWith(`${to}/`)} />;
        })
      ) : (
        <Text size="sm" c="dimmed" p="xs">
          Choose a project
        </Text>
      )}
      <Text size="xs" c="dimmed" fw={600} tt="uppercase" px="xs" pt="md" pb={4}>
        Organization
      </Text>
      {organizationPages.map((p) => (
        <NavLink key={p.to} component={Link} to={p.to} label={p.label} active={location.pathname === p.to} />
      ))}
    </Stack>
  );
}

/**
 * Organization and project pickers. Choosing an organization is `PATCH /api/v1/user/profile` with
 * `{"spec":{"activeOrganizationId":…}}` (what the session acts in), then its first project opens.
 */
function ContextSwitcher({ stacked = false }: { stacked?: boolean }) {
  const orgs = useOrganizations();
  const profile = useProfile();
  const queryClient = useQueryClient();
  const [switchError, setSwitchError] = useState<string | undefined>();
  const switchOrganization = async (organizationId: string) => {
    setSwitchError(undefined);
    try {
      await api('PATCH', '/api/v1/user/profile', { spec: { activeOrganizationId: organizationId } });
      // Everything cached belongs to the previous organization's projects.
      queryClient.clear();
      const first = orgs.data?.find((o) => o.metadata.id === organizationId)?.spec.projects?.[0]?.name;
      navigate(first ? `/projects/${encodeURIComponent(first)}/assets` : '/');
    } catch (err) {
      setSwitchError(errorText(err));
    }
  };
  const match = useMatch('/projects/:project/*');
  const navigate = useNavigate();
  const activeOrg = profile.data?.spec.activeOrganizationId;
  // Off a project's pages (API tokens), the project used last stays shown.
  const current = match?.params.project ?? rememberedProject() ?? undefined;
  const projects = useMemo(() => orgs.data?.find((o) => o.metadata.id === activeOrg)?.spec.projects ?? [], [orgs.data, activeOrg]);

  useEffect(() => {
    if (match?.params.project) rememberProject(match.params.project);
  }, [match?.params.project]);

  if (orgs.isPending) return <Loader size="xs" aria-label="Loading projects" />;
  if (orgs.isError)
    return (
      <Tooltip label={errorText(orgs.error)}>
        <Text size="xs" c="red">
          Projects unavailable
        </Text>
      </Tooltip>
    );

  const section = match?.params['*']?.split('/')[0] || 'assets';
  const orgSelect = (
    <Select
      label={stacked ? 'Organization' : undefined}
      aria-label="Organization"
      size="xs"
      w={stacked ? undefined : 150}
      visibleFrom={stacked ? undefined : 'sm'}
      value={activeOrg ?? null}
      allowDeselect={false}
      // Invitations not yet accepted are organizations one cannot act in: the banner above the page offers them.
      data={orgs.data.filter((o) => o.spec.invite?.state !== 'pending').map((o) => ({ value: o.metadata.id, label: o.metadata.name }))}
      onChange={(id) => {
        if (id && id !== activeOrg) void switchOrganization(id);
      }}
      error={switchError}
      comboboxProps={{ withinPortal: true }}
    />
  );
  const projectSelect = (
    <Select
      label={stacked ? 'Project' : undefined}
      aria-label="Project"
      size="xs"
      w={stacked ? undefined : 150}
      visibleFrom={stacked ? undefined : 'xs'}
      placeholder="Choose a project"
      value={current ?? null}
      allowDeselect={false}
      data={projects.map((p) => p.name)}
      onChange={(name) => {
        if (name) navigate(`/projects/${encodeURIComponent(name)}/${section}`);
      }}
      nothingFoundMessage="No projects"
    />
  );
  if (stacked)
    return (
      <Stack gap="xs">
        {orgSelect}
        {projectSelect}
      </Stack>
    );
  return (
    <Group gap="xs" wrap="nowrap">
      {orgSelect}
      {projectSelect}
    </Group>
  );
}

/**
 * Invitations to other organizations (`spec.invite.state: pending` in `GET /api/v1/user/organizations`): accept with
 * `PATCH /api/v1/user/organizations/{id}` `{"spec":{"invite":{"state":"accepted"}}}`, decline with `DELETE`.
 */
function InvitationsBanner() {
  const orgs = useOrganizations();
  const queryClient = useQueryClient();
  const [failure, setFailure] = useState<string | undefined>();
  const pending = orgs.data?.filter((o) => o.spec.invite?.state === 'pending') ?? [];
  if (pending.length === 0) return null;
  const answer = async (id: string, accept: boolean) => {
    setFailure(undefined);
    try {
      if (accept) await api('PATCH', `/api/v1/user/organizations/${encodeURIComponent(id)}`, { spec: { invite: { state: 'accepted' } } });
      else await api('DELETE', `/api/v1/user/organizations/${encodeURIComponent(id)}`);
      await queryClient.invalidateQueries({ queryKey: ['organizations'] });
    } catch (err) {
      setFailure(errorText(err));
    }
  };
  return (
    <Stack gap="xs" mb="md">
      {pending.map((o) => (
        <Alert key={o.metadata.id} variant="light" title={`Invitation to ${o.metadata.name}`} role="region" aria-label={`Invitation to ${o.metadata.name}`}>
          <Group justify="space-between" gap="xs">
            <Text size="sm">
              {o.spec.invite?.invitedBy ? `${o.spec.invite.invitedBy} invited you` : 'You are invited'}
              {o.spec.role ? ` as ${o.spec.role}` : ''}
              {o.spec.invite?.comment ? ` (“${o.spec.invite.comment}”)` : ''}.
            </Text>
            <Group gap="xs">
              <Button size="xs" onClick={() => void answer(o.metadata.id, true)}>
                Accept
              </Button>
              <Button size="xs" variant="default" onClick={() => void answer(o.metadata.id, false)}>
                Decline
              </Button>
            </Group>
          </Group>
        </Alert>
      ))}
      {failure && (
        <Text size="sm" c="red" role="alert">
          {failure}
        </Text>
      )}
    </Stack>
  );
}

function ProfileMenu({ email }: { email: string }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const signOut = async () => {
    try {
      await api('POST', '/auth/logout');
    } finally {
      queryClient.clear();
      navigate('/sign-in', { replace: true });
    }
  };
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="default" size="xs" maw={220} aria-label={`Account menu for ${email}`}>
          <Text size="xs" truncate="end">
            {email}
          </Text>
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Signed in as {email}</Menu.Label>
        <Menu.Item component={Link} to="/tokens">
          Personal API tokens
        </Menu.Item>
        <Menu.Item component="a" href="/auth/token/" target="_blank" rel="noopener">
          Get a token for scripts (/auth/token/)
        </Menu.Item>
        <Menu.Item component="a" href="/doc/ui" target="_blank" rel="noopener">
          API reference
        </Menu.Item>
        <Menu.Divider />
        <Menu.Item color="red" onClick={() => void signOut()}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/** `/`: the project used last, else the first project of the active organization. */
export function HomeRedirect() {
  const orgs = useOrganizations();
  const profile = useProfile();
  if (orgs.isPending || profile.isPending)
    return (
      <Center p="xl">
        <Loader aria-label="Loading projects" />
      </Center>
    );
  if (orgs.isError) return <ErrorState title="Could not load your projects" error={orgs.error} onRetry={() => void orgs.refetch()} />;
  const projects = orgs.data.find((o) => o.metadata.id === profile.data?.spec.activeOrganizationId)?.spec.projects ?? [];
  const remembered = rememberedProject();
  const target = projects.find((p) => p.name === remembered)?.name ?? projects[0]?.name;
  if (!target)
    return (
      <Stack p="xl" align="center">
        <Title order={3}>No project yet</Title>
        <Text c="dimmed">Your organization has no project. An administrator creates one on the Projects page.</Text>
        <Button component={Link} to="/projects">
          Projects
        </Button>
      </Stack>
    );
  return <Navigate to={`/projects/${encodeURIComponent(target)}/assets`} replace />;
}

export function NotFoundPage() {
  return (
    <Stack p="xl" align="center">
      <Title order={2}>Page not found</Title>
      <Text c="dimmed">There is no console page at this address.</Text>
      <Button component={Link} to="/">
        Go to the console home
      </Button>
    </Stack>
  );
}

export function RouteErrorPage() {
  const error = useRouteError();
  return (
    <Center h="100vh" p="md">
      <ErrorState title="Something went wrong on this page" error={error} onRetry={() => window.location.reload()} retryLabel="Reload" />
      <VisuallyHidden>Unexpected error</VisuallyHidden>
    </Center>
  );
}
