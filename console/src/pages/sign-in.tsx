import { useState, type FormEvent } from 'react';
import { Alert, Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearchParams } from 'react-router';
import { api, errorText } from '../api/client';

/** `POST /auth/login` sets the `reel_session` cookie; every later API call carries it. */
export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  /** Someone invited to Reel without an account creates it with the invitation's set-up code (`POST /auth/invite`). */
  const [withCode, setWithCode] = useState(false);
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const next = params.get('next');
  const login = useMutation({
    mutationFn: async () => {
      if (withCode) await api('POST', '/auth/invite', { email: email.trim(), code: code.trim(), password, ...(name.trim() ? { name: name.trim() } : {}) });
      return api<{ user_id: string; email: string }>('POST', '/auth/login', { email: email.trim(), password });
    },
    onSuccess: async () => {
      queryClient.clear();
      // Only an in-app path is followed, never an address from elsewhere.
      navigate(next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/sign-in') ? next : '/', { replace: true });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (email.trim() && password && (!withCode || code.trim())) login.mutate();
  };

  return (
    <Center mih="100vh" p="md" bg="var(--mantine-color-gray-light)">
      <Paper withBorder shadow="sm" p="xl" radius="md" w="100%" maw={400} component="main">
        <form onSubmit={submit} aria-labelledby="sign-in-title" noValidate>
          <Stack>
            <div>
              <Title order={2} id="sign-in-title">
                Sign in to Reel
              </Title>
              <Text c="dimmed" size="sm">
                Media services, self-hosted.
              </Text>
            </div>
            <TextInput
              label="Email"
              type="email"
              autoComplete="username"
              required
              value={email}
              data-autofocus
              autoFocus
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={login.isIdle || email.trim() ? undefined : 'Enter your email'}
            />
            {withCode && (
              <>
                <TextInput label="Set-up code" required value={code} onChange={(e) => setCode(e.currentTarget.value)} description="From the invitation." />
                <TextInput label="Your name" autoComplete="name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
              </>
            )}
            <PasswordInput
              label={withCode ? 'Choose a password' : 'Password'}
              description={withCode ? 'At least 10 characters.' : undefined}
              autoComplete={withCode ? 'new-password' : 'current-password'}
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            {login.isError && (
              <Alert color="red" role="alert" title={withCode ? 'Could not create your account' : 'Could not sign in'}>
                {errorText(login.error)}
              </Alert>
            )}
            <Button type="submit" loading={login.isPending} disabled={!email.trim() || !password || (withCode && !code.trim())} fullWidth>
              {withCode ? 'Create account and sign in' : 'Sign in'}
            </Button>
            <Anchor
              component="button"
              type="button"
              size="sm"
              onClick={() => {
                setWithCode((v) => !v);
                login.reset();
              }}
            >
              {withCode ? 'I already have an account' : 'I have an invitation code'}
            </Anchor>
            <Text size="xs" c="dimmed">
              The administrator's password is printed once when Reel first starts (or set with REEL_ADMIN_PASSWORD). Scripts can use the API directly: see the{' '}
              <Anchor href="/doc/ui" size="xs">
                API reference
              </Anchor>
              .
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
