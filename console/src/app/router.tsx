import { Navigate, createHashRouter } from 'react-router';
import { SignInPage } from '../pages/sign-in';
import { Shell, HomeRedirect, NotFoundPage, RouteErrorPage } from './shell';
import { TokensPage } from '../pages/tokens';
import { StoragePage } from '../pages/storage';
import { AssetsPage } from '../pages/assets';
import { AssetPage } from '../pages/asset';
import { EndpointsPage } from '../pages/streaming-endpoints';
import { LocatorsPage } from '../pages/streaming-locators';
import { PoliciesPage } from '../pages/streaming-policies';
import { TransformsPage } from '../pages/transforms';
import { JobsPage } from '../pages/jobs';
import { ProjectsPage } from '../pages/projects';
import { MembersPage } from '../pages/members';
import { WebhooksPage } from '../pages/webhooks';
import { UsagePage } from '../pages/usage';
import { FiltersPage } from '../pages/filters';
import { LiveEventsPage } from '../pages/live-events';
import { LiveEventPage } from '../pages/live-event';

/**
 * Hash routes (`/#/projects/default/assets`): the server serves only `/` and `/assets/…`, so no console path
 * can collide with the API or with playback URLs (`/{locatorId}/…`).
 */
export const router = createHashRouter([
  { path: '/sign-in', element: <SignInPage />, errorElement: <RouteErrorPage /> },
  {
    path: '/',
    element: <Shell />,
    errorElement: <RouteErrorPage />,
    children: [
      { index: true, element: <HomeRedirect /> },
      { path: 'tokens', element: <TokensPage /> },
      { path: 'projects', element: <ProjectsPage /> },
      { path: 'members', element: <MembersPage /> },
      {
        path: 'projects/:project',
        children: [
          { index: true, element: <Navigate to="assets" replace /> },
          { path: 'assets', element: <AssetsPage /> },
          { path: 'assets/:asset', element: <AssetPage /> },
          { path: 'storage', element: <StoragePage /> },
          { path: 'streaming-endpoints', element: <EndpointsPage /> },
          { path: 'streaming-locators', element: <LocatorsPage /> },
          { path: 'streaming-policies', element: <PoliciesPage /> },
          { path: 'account-filters', element: <FiltersPage /> },
          { path: 'live-events', element: <LiveEventsPage /> },
          { path: 'live-events/:event', element: <LiveEventPage /> },
          { path: 'transforms', element: <TransformsPage /> },
          { path: 'jobs', element: <JobsPage /> },
          { path: 'webhooks', element: <WebhooksPage /> },
          { path: 'usage', element: <UsagePage /> },
        ],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
