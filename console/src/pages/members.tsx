import { useState, type FormEvent, type ReactNode } from 'react';
import { Alert, Badge, Button, Group, Modal, MultiSelect, Select, Stack, Table, Text, TextInput, Textarea, Title, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { ApiError, api, fieldErrors, seg } from '../api/client';
import type { Invite, OrgToken, OrgUser, Role, Team } from '../api/types';
import { useOrgRole, useOrganizations, useProfile } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { formatTime } from '../components/format';
import { CopyField } from '../components/copy-field';
import { EmptyState, ErrorState, LoadingState, PageHeader } from '../components/states';
import { AdminOnlyNote } from './projects';

const org = '/api/v1/organization';

/** A 404 from these routes means the server has no such API (an older Reel): the section says so instead of failing. */
const missing = (err: unknown) => err instanceof ApiError && err.status === 404;

function list<T>(path: string) {
  return async () => (await api<{ value: T[] }>('GET', path)).value;
}

/** Loading, "not available" (404), error and loaded states of one section of the page. */
function Section<T>({
  title,
  noun = title.toLowerCase(),
  query,
  children,
  actions,
  hiddenNote,
}: {
  title: string;
  /** The section's title inside a sentence. */
  noun?: string;
  query: UseQueryResult<T>;
  children: (data: T) => ReactNode;
  actions?: ReactNode;
  /** Shown instead of the data when the caller's role may not read it (the query is then not sent). */
  hiddenNote?: string;
}) {
  let body: ReactNode;
  if (hiddenNote)
    body = (
      <Text size="sm" c="dimmed">
        {hiddenNote}
      </Text>
    );
  else if (query.isPending) body = <LoadingState label={`Loading ${noun}…`} />;
  else if (query.isError && missing(query.error))
    body = (
      <Alert variant="light" color="gray" title="Not available">
        This server does not offer {noun} yet.
      </Alert>
    );
  else if (query.isError) body = <ErrorState title={`Could not load ${noun}`} error={query.error} onRetry={() => void query.refetch()} />;
  else body = children(query.data);
  return (
    <Stack gap="xs" mb="xl" component="section" aria-label={title}>
      <Group justify="space-between">
        <Title order={3}>{title}</Title>
        {actions}
      </Group>
      {body}
    </Stack>
  );
}

/** The roles each user holds through their teams (`spec.members` keyed by user id, `spec.scopes[*].roles`). */
function rolesByUser(teams: Team[] | undefined): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const t of teams ?? []) {
    const roles = Object.values(t.spec.scopes ?? {}).flatMap((s) => s.roles);
    for (const [key, m] of Object.entries(t.spec.members ?? {})) {
      for (const k of [key, m.email.toLowerCase()]) {
        const set = out.get(k) ?? new Set<string>();
        roles.forEach((r) => set.add(r));
        out.set(k, set);
      }
    }
  }
  return out;
}

const teamLabel = (t: Team) => {
  const roles = [...new Set(Object.values(t.spec.scopes ?? {}).flatMap((s) => s.roles))];
  return `${t.metadata.name ?? t.metadata.id}${roles.length ? ` (${roles.join(', ')})` : ''}`;
};

/**
 * Members and roles of the active organization, through MK.IO's Management API: users (`/organization/users`),
 * pending invites (`/invites`), teams that grant roles (`/teams`), roles (`/roles`) and every member's API tokens
 * (`/tokens`). Each section works on its own, so a server without one of these routes shows the rest.
 */
export function MembersPage() {
  const { role, isAdmin } = useOrgRole();
  const profile = useProfile();
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ['org-users'], queryFn: list<OrgUser>(`${org}/users`) });
  // Only an Admin reads invitations and other members' tokens: nobody else is sent a 403.
  const adminReads = role === 'Admin';
  const invites = useQuery({ queryKey: ['org-invites'], queryFn: list<Invite>(`${org}/invites`), enabled: adminReads });
  const teams = useQuery({ queryKey: ['org-teams'], queryFn: list<Team>(`${org}/teams`) });
  const roles = useQuery({ queryKey: ['org-roles'], queryFn: list<Role>(`${org}/roles`) });
  const tokens = useQuery({ queryKey: ['org-tokens'], queryFn: list<OrgToken>(`${org}/tokens`), enabled: adminReads });
  const adminOnly = (what: string) => (adminReads || role === undefined ? undefined : `Only an Admin sees ${what}.`);
  const [inviting, setInviting] = useState(false);
  const refresh = (key: string) => void queryClient.invalidateQueries({ queryKey: [key] });
  const userRoles = rolesByUser(teams.data);
  const me = profile.data?.metadata.id;
  /** A token's `spec.user`: MK.IO documents an e-mail, Reel sends the user id; either is shown as the e-mail. */
  const owner = (user: string) => users.data?.find((u) => u.metadata.id === user)?.spec.email ?? user;

  return (
    <>
      <PageHeader
        title="Members and roles"
        description="Who can use this organization, with which role, and the API tokens they hold."
        actions={
          <Button onClick={() => setInviting(true)} disabled={!adminReads || (invites.isError && missing(invites.error))}>
            Invite member
          </Button>
        }
      />
      {!isAdmin && <AdminOnlyNote role={role} what="invite or remove members and revoke their tokens" />}

      <Section title="Members" query={users}>
        {(data) =>
          data.length === 0 ? (
            <EmptyState title="No members" />
          ) : (
            <Table.ScrollContainer minWidth={600}>
              <Table verticalSpacing="xs" striped aria-label="Members">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>E-mail</Table.Th>
                    <Table.Th>Roles</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.map((u) => {
                    const viaTeams = [...(userRoles.get(u.metadata.id) ?? userRoles.get(u.spec.email.toLowerCase()) ?? [])].filter((r) => r !== u.spec.role);
                    return (
                      <Table.Tr key={u.metadata.id} data-user={u.spec.email}>
                        <Table.Td>
                          <Text size="sm" fw={600}>
                            {u.spec.name || '—'}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{u.spec.email}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Group gap={4}>
                            {u.spec.role && (
                              <Badge variant="light" size="sm" aria-label={`Organization role: ${u.spec.role}`}>
                                {u.spec.role}
                              </Badge>
                            )}
                            {viaTeams.map((r) => (
                              <Badge key={r} variant="outline" size="sm" title="Granted through a team">
                                {r} (team)
                              </Badge>
                            ))}
                            {!u.spec.role && viaTeams.length === 0 && (
                              <Text size="xs" c="dimmed">
                                —
                              </Text>
                            )}
                          </Group>
                        </Table.Td>
                        <Table.Td>
                          <Group justify="flex-end">
                            <ConfirmButton
                              label="Remove"
                              ariaLabel={`Remove member ${u.spec.email}`}
                              title={`Remove ${u.spec.email} from the organization?`}
                              confirmLabel="Remove member"
                              message="They lose access to every project of this organization and leave all its teams."
                              disabled={!isAdmin || u.metadata.id === me}
                              onConfirm={() => api('DELETE', `${org}/users/${seg(u.metadata.id)}`)}
                              onDone={() => {
                                refresh('org-users');
                                refresh('org-teams');
                                notifications.show({ color: 'green', message: `${u.spec.email} removed` });
                              }}
                            />
                          </Group>
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </Section>

      <Section title="Pending invites" query={invites} hiddenNote={adminOnly('pending invites')}>
        {(data) =>
          data.length === 0 ? (
            <Text size="sm" c="dimmed">
              No pending invite.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={600}>
              <Table verticalSpacing="xs" striped aria-label="Pending invites">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>E-mail</Table.Th>
                    <Table.Th>Role</Table.Th>
                    <Table.Th>Teams</Table.Th>
                    <Table.Th>Invited by</Table.Th>
                    <Table.Th>Sent</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.map((i) => (
                    <Table.Tr key={i.metadata?.id ?? i.spec.email} data-invite={i.spec.email}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {i.spec.email}
                        </Text>
                        {i.spec.comment && (
                          <Text size="xs" c="dimmed">
                            {i.spec.comment}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{i.spec.role ?? '—'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{(i.spec.teams ?? []).join(', ') || '—'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{i.spec.invitedByEmail || i.spec.invitedByName || '—'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatTime(i.metadata?.created)}</Text>
                      </Table.Td>
                      <Table.Td>
                        {i.metadata?.id && (
                          <Group justify="flex-end">
                            <ConfirmButton
                              label="Cancel"
                              ariaLabel={`Cancel invite for ${i.spec.email}`}
                              title={`Cancel the invite for ${i.spec.email}?`}
                              confirmLabel="Cancel invite"
                              message="The invitation can no longer be accepted."
                              disabled={!isAdmin}
                              onConfirm={() => api('DELETE', `${org}/invites/${seg(i.metadata?.id ?? '')}`)}
                              onDone={() => refresh('org-invites')}
                            />
                          </Group>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </Section>

      <Section title="Teams" query={teams}>
        {(data) =>
          data.length === 0 ? (
            <Text size="sm" c="dimmed">
              No team.
            </Text>
          ) : (
            <Table verticalSpacing="xs" striped aria-label="Teams">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Team</Table.Th>
                  <Table.Th>Roles by scope</Table.Th>
                  <Table.Th>Members</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.map((t) => (
                  <Table.Tr key={t.metadata.id}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {t.metadata.name ?? t.metadata.id}
                      </Text>
                      {t.spec.description && (
                        <Text size="xs" c="dimmed">
                          {t.spec.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {Object.entries(t.spec.scopes ?? {}).map(([scope, s]) => (
                        <Text key={scope} size="xs">
                          {scope}: {s.roles.join(', ')}
                        </Text>
                      ))}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{Object.keys(t.spec.members ?? {}).length}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </Section>

      <Section title="Roles" query={roles}>
        {(data) => (
          <Table verticalSpacing="xs" striped aria-label="Roles">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Role</Table.Th>
                <Table.Th>Description</Table.Th>
                <Table.Th>Capabilities</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((r) => (
                <Table.Tr key={r.metadata.id}>
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {r.metadata.name ?? r.metadata.id}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{r.spec.description}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{r.spec.capabilities?.length ?? 0}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>

      <Section title="Organization API tokens" noun="the API tokens of the organization" query={tokens} hiddenNote={adminOnly("the organization's API tokens")}>
        {(data) =>
          data.length === 0 ? (
            <Text size="sm" c="dimmed">
              No token.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={720}>
              <Table verticalSpacing="xs" striped aria-label="Organization API tokens">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>User</Table.Th>
                    <Table.Th>Description</Table.Th>
                    <Table.Th>Type</Table.Th>
                    <Table.Th>Expires</Table.Th>
                    <Table.Th>Last used</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.map((t) => (
                    <Table.Tr key={t.metadata.id} data-token-id={t.metadata.id}>
                      <Table.Td>
                        <Text size="sm">{owner(t.spec.user)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{t.spec.description || '(no description)'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{t.metadata.type}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatTime(t.spec.expires)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{t.spec.lastUsed ?? 'Never'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={t.spec.revoked ? 'gray' : 'green'} variant="light">
                          {t.spec.revoked ? 'Revoked' : 'Active'}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        {!t.spec.revoked && (
                          <ConfirmButton
                            label="Revoke"
                            ariaLabel={`Revoke token ${t.spec.description || t.metadata.id} of ${owner(t.spec.user)}`}
                            title="Revoke this token?"
                            confirmLabel="Revoke token"
                            message={`Scripts using ${owner(t.spec.user)}'s token “${t.spec.description || t.metadata.id}” get 401 from their next request on.`}
                            disabled={!isAdmin}
                            onConfirm={() => api('DELETE', `${org}/tokens/${seg(t.metadata.id)}`)}
                            onDone={() => {
                              refresh('org-tokens');
                              notifications.show({ color: 'green', message: 'Token revoked' });
                            }}
                          />
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        }
      </Section>

      {inviting && (
        <InviteModal teams={teams.data ?? []} roles={roles.data ?? []} onClose={() => setInviting(false)} onInvited={() => refresh('org-invites')} />
      )}
    </>
  );
}

/**
 * `POST /api/v1/organization/invites` with MK.IO's body, plus Reel's `spec.role` (the organization role given on
 * accepting; MK.IO grants rights through the teams an invite names, which can be chosen too). For an e-mail with no
 * account the answer carries a one-time set-up code, shown once to pass on.
 */
function InviteModal({ teams, roles, onClose, onInvited }: { teams: Team[]; roles: Role[]; onClose: () => void; onInvited: () => void }) {
  const profile = useProfile();
  const orgs = useOrganizations();
  const orgName = orgs.data?.find((o) => o.metadata.id === profile.data?.spec.activeOrganizationId)?.metadata.name ?? '';
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string | null>('Reader');
  const [chosenTeams, setChosenTeams] = useState<string[]>([]);
  const [comment, setComment] = useState('');
  const [done, setDone] = useState<Invite | null>(null);
  const invite = useMutation({
    mutationFn: () =>
      api<Invite>('POST', `${org}/invites`, {
        spec: {
          email: email.trim(),
          comment: comment.trim(),
          invitedByEmail: profile.data?.spec.loginEmail ?? '',
          invitedByName: profile.data?.spec.name ?? '',
          organizationName: orgName,
          teams: chosenTeams,
          ...(role ? { role } : {}),
        },
      }),
    onSuccess: (created) => {
      onInvited();
      setDone(created);
    },
  });
  const errors = invite.isError
    ? fieldErrors(invite.error, {
        email: { paths: ['body.spec.email', 'spec.email'], codes: ['Conflict'] },
        role: { paths: ['body.spec.role', 'spec.role'] },
        teams: { paths: ['body.spec.teams', 'spec.teams'] },
      })
    : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (email.trim()) invite.mutate();
  };
  const roleNames = roles.map((r) => r.metadata.name).filter((n): n is string => Boolean(n));
  if (done)
    return (
      <Modal opened onClose={onClose} title={`${done.spec.email} invited`} size="lg" closeOnClickOutside={false}>
        <Stack>
          {done.spec.setupCode ? (
            <>
              <Alert color="yellow" title="Pass this set-up code on now">
                {done.spec.email} has no account yet. With this code they create one ({'POST /auth/invite'}, or “I have an invitation code” on the sign-in
                page). It is shown only this once.
              </Alert>
              <CopyField label="Set-up code" value={done.spec.setupCode} />
            </>
          ) : (
            <Text size="sm">They see the invitation when they next sign in, and accept or decline it there.</Text>
          )}
          <Group justify="flex-end">
            <Button onClick={onClose}>Done</Button>
          </Group>
        </Stack>
      </Modal>
    );
  return (
    <Modal opened onClose={onClose} title="Invite a member">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="E-mail"
            type="email"
            required
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={errors.byField.email}
            data-autofocus
          />
          <Select
            label="Role"
            description="Their role in the organization once they accept."
            data={roleNames.length > 0 ? roleNames : ['Reader', 'Contributor', 'Admin']}
            value={role}
            onChange={setRole}
            allowDeselect={false}
            error={errors.byField.role}
            comboboxProps={{ withinPortal: true }}
          />
          {teams.length > 0 && (
            <MultiSelect
              label="Teams"
              description="Teams they join, with the roles the teams hold."
              data={teams.map((t) => ({ value: t.metadata.name ?? t.metadata.id, label: teamLabel(t) }))}
              value={chosenTeams}
              onChange={setChosenTeams}
              error={errors.byField.teams}
              comboboxProps={{ withinPortal: true }}
            />
          )}
          <Textarea
            label="Comment"
            description="Shown with the invitation, e.g. “Contractor for project Delphi”."
            value={comment}
            onChange={(e) => setComment(e.currentTarget.value)}
          />
          {errors.general && (
            <Alert color="red" role="alert" title="The invite was not sent">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={invite.isPending} disabled={!email.trim()}>
              Send invite
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
