import { useState, type FormEvent } from 'react';
import { Alert, Badge, Button, Group, Modal, Stack, Switch, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, fieldErrors, seg } from '../api/client';
import type { ListBody, Project } from '../api/types';
import { forgetProject, rememberProject, rememberedProject, useOrgRole } from '../app/session';
import { ConfirmButton } from '../components/confirm';
import { formatTime } from '../components/format';
import { EmptyState, PageHeader, QueryView } from '../components/states';

/** Only an Admin creates, edits or deletes projects (`core.project.create|update|delete`). */
export function AdminOnlyNote({ role, what }: { role: string | undefined; what: string }) {
  return (
    <Alert variant="light" color="gray" mb="md" title="Read-only for your role">
      You are a {role ?? 'member'} of this organization; only an Admin can {what}.
    </Alert>
  );
}

/** The organization's projects (`/api/v1/projects`, Management API): create, rename, (de)activate, delete, switch. */
export function ProjectsPage() {
  const projects = useQuery({ queryKey: ['projects'], queryFn: async () => (await api<ListBody<Project>>('GET', '/api/v1/projects')).value });
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { role, isAdmin } = useOrgRole();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Project | null>(null);
  const current = rememberedProject();
  // The project switcher reads the projects from /api/v1/user/organizations.
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['projects'] });
    void queryClient.invalidateQueries({ queryKey: ['organizations'] });
  };
  const open = (name: string) => {
    rememberProject(name);
    navigate(`/projects/${encodeURIComponent(name)}/assets`);
  };

  return (
    <>
      <PageHeader
        title="Projects"
        description="Each project has its own assets, storage, transforms and streaming endpoints. Open one to work in it."
        actions={
          <Button onClick={() => setCreating(true)} disabled={!isAdmin}>
            Create project
          </Button>
        }
      />
      {!isAdmin && <AdminOnlyNote role={role} what="create, edit or delete projects" />}
      <QueryView
        query={projects}
        loading="Loading projects…"
        errorTitle="Could not load the projects"
        isEmpty={(l) => l.length === 0}
        empty={<EmptyState title="No projects">Create one to hold assets.</EmptyState>}
      >
        {(list) => (
          <Table.ScrollContainer minWidth={720}>
            <Table verticalSpacing="sm" striped aria-label="Projects">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Location</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((p) => (
                  <Table.Tr key={p.metadata.id} data-project={p.spec.name}>
                    <Table.Td>
                      <Group gap="xs">
                        <Text size="sm" fw={600}>
                          {p.spec.displayName}
                        </Text>
                        {p.spec.name === current && (
                          <Badge size="xs" variant="outline">
                            Current
                          </Badge>
                        )}
                      </Group>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {p.spec.name}
                      </Text>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <Badge color={p.spec.isActive ? 'green' : 'gray'} variant="light">
                        {p.spec.isActive ? 'Active' : 'Inactive'}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{p.spec.locationDisplayName ?? p.spec.locationName}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatTime(p.metadata.created)}</Text>
                      {p.metadata.createdByEmail && (
                        <Text size="xs" c="dimmed">
                          by {p.metadata.createdByEmail}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap" justify="flex-end">
                        <Button size="xs" variant="light" onClick={() => open(p.spec.name)} aria-label={`Open project ${p.spec.name}`}>
                          Open
                        </Button>
                        <Button size="xs" variant="default" disabled={!isAdmin} onClick={() => setEditing(p)} aria-label={`Edit project ${p.spec.name}`}>
                          Edit
                        </Button>
                        <ConfirmButton
                          label="Delete"
                          ariaLabel={`Delete project ${p.spec.name}`}
                          title={`Delete project ${p.spec.name}?`}
                          confirmLabel="Delete project"
                          message="Its storage accounts, transforms, jobs, streaming endpoints, policies and webhook rules go with it. A project that still holds assets is not deleted."
                          disabled={!isAdmin}
                          onConfirm={() => api('DELETE', `/api/v1/projects/${seg(p.spec.name)}`)}
                          onDone={() => {
                            forgetProject(p.spec.name);
                            refresh();
                            notifications.show({ color: 'green', message: `Project ${p.spec.name} deleted` });
                          }}
                        />
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryView>
      <CreateProjectModal opened={creating} onClose={() => setCreating(false)} onCreated={refresh} />
      {editing && <EditProjectModal project={editing} onClose={() => setEditing(null)} onSaved={refresh} />}
    </>
  );
}

function CreateProjectModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const create = useMutation({
    mutationFn: () => api<Project>('PUT', `/api/v1/projects/${seg(name.trim())}`, { displayName: displayName.trim() || name.trim(), locationName: 'local' }),
    onSuccess: (p) => {
      notifications.show({ color: 'green', message: `Project ${p.spec.name} created` });
      onCreated();
      close();
    },
  });
  const close = () => {
    setName('');
    setDisplayName('');
    create.reset();
    onClose();
  };
  const errors = create.isError
    ? fieldErrors(create.error, {
        name: { paths: ['params.project'], codes: ['Conflict'] },
        displayName: { paths: ['body.displayName'] },
      })
    : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title="Create project">
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Name"
            required
            description="Lower-case letters, digits and hyphens: it appears in API paths and streaming host names, and cannot change."
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.byField.name}
            data-autofocus
          />
          <TextInput
            label="Display name"
            description="Shown in the console; defaults to the name."
            value={displayName}
            onChange={(e) => setDisplayName(e.currentTarget.value)}
            error={errors.byField.displayName}
          />
          {errors.general && (
            <Alert color="red" role="alert" title="The project was not created">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={!name.trim()}>
              Create project
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function EditProjectModal({ project, onClose, onSaved }: { project: Project; onClose: () => void; onSaved: () => void }) {
  const [displayName, setDisplayName] = useState(project.spec.displayName);
  const [isActive, setIsActive] = useState(project.spec.isActive);
  const save = useMutation({
    mutationFn: () =>
      api<Project>('PATCH', `/api/v1/projects/${seg(project.spec.name)}`, {
        metadata: { displayName: displayName.trim() },
        spec: { isActive },
      }),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Project ${project.spec.name} saved` });
      onSaved();
      onClose();
    },
  });
  const errors = save.isError
    ? fieldErrors(save.error, { displayName: { paths: ['body.metadata.displayName', 'metadata.displayName'] } })
    : { byField: {} as Record<string, string>, general: undefined };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (displayName.trim()) save.mutate();
  };
  return (
    <Modal opened onClose={onClose} title={`Edit project ${project.spec.name}`}>
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput
            label="Display name"
            required
            value={displayName}
            onChange={(e) => setDisplayName(e.currentTarget.value)}
            error={errors.byField.displayName}
            data-autofocus
          />
          <Switch label="Active" checked={isActive} onChange={(e) => setIsActive(e.currentTarget.checked)} />
          {errors.general && (
            <Alert color="red" role="alert" title="The project was not saved">
              {errors.general}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!displayName.trim()}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
