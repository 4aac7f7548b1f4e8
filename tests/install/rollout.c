/* rollout.c — a program on libbdrl's public API, built by
 * scripts/test_install.sh against an installed bdrl with pkg-config alone:
 * `rollout SEED A,A,... env.KEY=VALUE...` resets the environment of the
 * settings with SEED, takes the actions until they run out or the episode
 * ends, and prints what `bdrl env rollout` prints for a tabular env
 * (step,state,reward,terminated,truncated), so the two can be compared. */
#include <bdrl/environment.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rollout SEED A,A,... env.KEY=VALUE...\n");
        return 2;
    }
    char err[512];
    bdrl_environment *e = bdrl_environment_open((const char *const *)argv + 3, argc - 3, err, sizeof err);
    if (!e) {
        fprintf(stderr, "rollout: %s\n", err);
        return 2;
    }
    if (bdrl_environment_obs_dim(e) != 1) {
        fprintf(stderr, "rollout: prints tabular environments only\n");
        return 2;
    }
    bdrl_environment_reset(e, strtoull(argv[1], NULL, 10));
    printf("step,state,reward,terminated,truncated\n");
    int step = 0;
    for (char *p = argv[2]; *p;) {
        int action = (int)strtol(p, &p, 10), term, trunc;
        double r;
        const float *obs = bdrl_environment_step(e, action, &r, &term, &trunc);
        if (!obs) {
            fprintf(stderr, "rollout: step %d refused\n", step + 1);
            return 1;
        }
        printf("%d,%.17g,%.17g,%d,%d\n", ++step, (double)obs[0], r, term, trunc);
        if (term || trunc)
            break;
        p += *p == ',';
    }
    bdrl_environment_close(e);
    return 0;
}
