import { Global, Injectable, Module } from '@nestjs/common';

/** Whether this replica is draining for shutdown: readiness fails so load balancers stop sending. */
@Injectable()
export class LifecycleState {
  draining = false;
}

@Global()
@Module({ providers: [LifecycleState], exports: [LifecycleState] })
export class LifecycleModule {}
