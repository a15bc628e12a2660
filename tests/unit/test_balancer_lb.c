/* The lbmethods (proxy/lbmethods.c) on hand-made shared slots: byrequests' exact weighted
 * shares and interleaving, bybusyness, bytraffic, random2's weights and its preference for
 * the less busy member, and the hash method's consistency (a member added or removed moves
 * only its own share of keys). */
#include "lbmethods.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define NMAX 8

static pt_member_shared_t slots[NMAX];
static bool cand[NMAX];
static pt_balancer_t bal;

static void setup_slots(size_t n, const int *lf)
{
    memset(slots, 0, sizeof(slots));
    for (size_t i = 0; i < n; i++) {
        snprintf(slots[i].name, sizeof(slots[i].name), "http://10.0.0.%zu:8080", i + 1);
        atomic_store(&slots[i].loadfactor, lf ? lf[i] : 1);
        atomic_store(&slots[i].in_use, true);
        cand[i] = true;
    }
}

static int pick(const char *method, size_t n, const char *key)
{
    const pt_lbmethod_t *m = pt_lbmethod_find(method);
    ck_assert_ptr_nonnull(m);
    pt_lb_pick_t p = {.bal = &bal, .slots = slots, .candidate = cand, .nslots = n, .key = key};
    return m->pick(&p);
}

START_TEST(methods_are_found_by_name_without_case)
{
    ck_assert_ptr_nonnull(pt_lbmethod_find("ByRequests"));
    ck_assert_ptr_nonnull(pt_lbmethod_find("bybusyness"));
    ck_assert_ptr_nonnull(pt_lbmethod_find("bytraffic"));
    ck_assert_ptr_nonnull(pt_lbmethod_find("random2"));
    ck_assert_ptr_nonnull(pt_lbmethod_find("hash"));
    ck_assert_ptr_null(pt_lbmethod_find("heartbeat"));
    ck_assert_str_eq(pt_lbmethod_default()->name, "byrequests");
}
END_TEST

START_TEST(byrequests_gives_each_member_its_loadfactor_share_exactly)
{
    int lf[] = {1, 2, 3};
    setup_slots(3, lf);
    int count[3] = {0};
    for (int i = 0; i < 600; i++)
        count[pick("byrequests", 3, NULL)]++;
    ck_assert_int_eq(count[0], 100);
    ck_assert_int_eq(count[1], 200);
    ck_assert_int_eq(count[2], 300);
}
END_TEST

START_TEST(byrequests_interleaves_rather_than_bursts)
{
    int lf[] = {1, 1, 1};
    setup_slots(3, lf);
    /* Equal weights: a strict rotation, every window of 3 picks holds each member once. */
    for (int w = 0; w < 10; w++) {
        bool seen[3] = {false};
        for (int i = 0; i < 3; i++)
            seen[pick("byrequests", 3, NULL)] = true;
        ck_assert(seen[0] && seen[1] && seen[2]);
    }
}
END_TEST

START_TEST(byrequests_picks_only_candidates)
{
    setup_slots(3, NULL);
    cand[1] = false;
    for (int i = 0; i < 30; i++)
        ck_assert_int_ne(pick("byrequests", 3, NULL), 1);
    cand[0] = cand[2] = false;
    ck_assert_int_eq(pick("byrequests", 3, NULL), -1);
}
END_TEST

START_TEST(bybusyness_picks_the_member_with_fewest_in_flight)
{
    setup_slots(3, NULL);
    atomic_store(&slots[0].busy, 5);
    atomic_store(&slots[1].busy, 1);
    atomic_store(&slots[2].busy, 3);
    ck_assert_int_eq(pick("bybusyness", 3, NULL), 1);
    atomic_store(&slots[1].busy, 4);
    ck_assert_int_eq(pick("bybusyness", 3, NULL), 2);
    /* Equal busy: byrequests' rotation decides, so an idle balancer still spreads. */
    atomic_store(&slots[0].busy, 0);
    atomic_store(&slots[1].busy, 0);
    atomic_store(&slots[2].busy, 0);
    for (int i = 0; i < 3; i++)
        atomic_store(&slots[i].lbstatus, 0);
    int count[3] = {0};
    for (int i = 0; i < 30; i++)
        count[pick("bybusyness", 3, NULL)]++;
    ck_assert_int_eq(count[0], 10);
    ck_assert_int_eq(count[1], 10);
    ck_assert_int_eq(count[2], 10);
}
END_TEST

START_TEST(bytraffic_picks_the_least_traffic_per_loadfactor)
{
    int lf[] = {1, 4};
    setup_slots(2, lf);
    atomic_store(&slots[0].bytes_out, 1000);
    atomic_store(&slots[1].bytes_in, 3000); /* 750 per unit of weight */
    ck_assert_int_eq(pick("bytraffic", 2, NULL), 1);
    atomic_store(&slots[1].bytes_out, 2000); /* 1250 */
    ck_assert_int_eq(pick("bytraffic", 2, NULL), 0);
}
END_TEST

START_TEST(random2_spreads_by_loadfactor)
{
    int lf[] = {1, 3};
    setup_slots(2, lf);
    int count[2] = {0};
    for (int i = 0; i < 20000; i++)
        count[pick("random2", 2, NULL)]++;
    /* Idle members: each draw's winner is the first draw (ties keep it): 1/4 vs 3/4. */
    ck_assert_int_gt(count[0], 4000);
    ck_assert_int_lt(count[0], 6000);
}
END_TEST

START_TEST(random2_avoids_the_busy_member)
{
    setup_slots(3, NULL);
    atomic_store(&slots[1].busy, 1000);
    int count[3] = {0};
    for (int i = 0; i < 9000; i++)
        count[pick("random2", 3, NULL)]++;
    /* It wins only when both draws fall on it: 1/9 of the picks (1000), not 1/3. */
    ck_assert_int_lt(count[1], 1400);
    ck_assert_int_gt(count[0], 3300);
    ck_assert_int_gt(count[2], 3300);
}
END_TEST

/* Which slot key k goes to among the first n members. */
static int owner(size_t n, int k)
{
    char key[32];
    snprintf(key, sizeof(key), "client-%d", k);
    return pick("hash", n, key);
}

#define KEYS 10000

START_TEST(hash_sends_one_key_to_one_member_and_spreads_keys)
{
    setup_slots(4, NULL);
    int count[4] = {0};
    for (int k = 0; k < KEYS; k++) {
        int o = owner(4, k);
        ck_assert_int_eq(owner(4, k), o);
        count[o]++;
    }
    for (int i = 0; i < 4; i++)
        ck_assert_msg(count[i] > 2200 && count[i] < 2800, "member %d has %d keys", i, count[i]);
}
END_TEST

START_TEST(hash_adding_a_member_moves_only_its_share)
{
    setup_slots(5, NULL);
    int moved = 0;
    for (int k = 0; k < KEYS; k++) {
        int before = owner(4, k), after = owner(5, k);
        if (before != after) {
            ck_assert_int_eq(after, 4); /* a key only ever moves to the new member */
            moved++;
        }
    }
    ck_assert_msg(moved > 1700 && moved < 2300, "%d keys moved (1/5 expected)", moved);
}
END_TEST

START_TEST(hash_removing_a_member_moves_only_its_keys)
{
    setup_slots(5, NULL);
    int moved = 0;
    int before[KEYS];
    for (int k = 0; k < KEYS; k++)
        before[k] = owner(5, k);
    cand[2] = false; /* member 2 leaves (down, or removed) */
    for (int k = 0; k < KEYS; k++) {
        int after = owner(5, k);
        if (before[k] != 2)
            ck_assert_int_eq(after, before[k]);
        else
            moved++;
    }
    ck_assert_msg(moved > 1700 && moved < 2300, "%d keys moved (1/5 expected)", moved);
}
END_TEST

START_TEST(hash_weights_keys_by_loadfactor)
{
    int lf[] = {1, 3};
    setup_slots(2, lf);
    int count[2] = {0};
    for (int k = 0; k < KEYS; k++)
        count[owner(2, k)]++;
    ck_assert_msg(count[1] > 7000 && count[1] < 8000, "heavy member has %d keys", count[1]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("balancer_lb");
    TCase *tc = tcase_create("lbmethods");
    tcase_add_test(tc, methods_are_found_by_name_without_case);
    tcase_add_test(tc, byrequests_gives_each_member_its_loadfactor_share_exactly);
    tcase_add_test(tc, byrequests_interleaves_rather_than_bursts);
    tcase_add_test(tc, byrequests_picks_only_candidates);
    tcase_add_test(tc, bybusyness_picks_the_member_with_fewest_in_flight);
    tcase_add_test(tc, bytraffic_picks_the_least_traffic_per_loadfactor);
    tcase_add_test(tc, random2_spreads_by_loadfactor);
    tcase_add_test(tc, random2_avoids_the_busy_member);
    tcase_add_test(tc, hash_sends_one_key_to_one_member_and_spreads_keys);
    tcase_add_test(tc, hash_adding_a_member_moves_only_its_share);
    tcase_add_test(tc, hash_removing_a_member_moves_only_its_keys);
    tcase_add_test(tc, hash_weights_keys_by_loadfactor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
