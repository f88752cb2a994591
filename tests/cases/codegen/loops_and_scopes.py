def rule_main(rt, r_replica, r_issue, r_connection):
    v_n = 0
    v_seen = []

    def loop_3(v_c, v_seen, v_n):
        v_n2 = rt_add(rt, v_n, 1)
        if rt_dget(v_c if v_c is not None else rt_E, 'internal'):
            v_n = v_n2
        else:
            v_seen = rt_iadd(rt, v_seen, rt_dget(v_c if v_c is not None else rt_E, 'id'), False)

        def loop_1(v_l, v_seen):
            v_seen = rt_iadd(rt, v_seen, v_l, False)
            return [v_seen]
        c_2 = rt_each(rt, rt_dget(r_issue, 'labels'), loop_1, [v_seen])
        v_seen = rt_item(c_2, 0)
        return [v_seen, v_n]
    c_4 = rt_each(rt, rt_dget(r_issue, 'comments'), loop_3, [v_seen, v_n])
    v_seen = rt_item(c_4, 0)
    v_n = rt_item(c_4, 1)
    rt_put(rt, r_replica, ('custom', 'n'), v_n, 0)
    rt_put(rt, r_replica, ('custom', 'seen'), v_seen, 1)
