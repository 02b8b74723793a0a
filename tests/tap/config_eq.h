/* config_eq.h - two configurations equal member by member, from the list
 * of variables (src/config_def.h), so a new variable is compared too. */
#ifndef TAP_CONFIG_EQ_H
#define TAP_CONFIG_EQ_H

#include "config.h"

#include <stdbool.h>
#include <string.h>

#define CFG_EQ_BOOL(a, b)  ((a) == (b))
#define CFG_EQ_COUNT(a, b) ((a) == (b))
#define CFG_EQ_SIZE(a, b)  ((a) == (b))
#define CFG_EQ_MS(a, b)    ((a) == (b))
#define CFG_EQ_NAME(a, b)  (!strcmp((a), (b)))
#define CFG_EQ_DIRS(a, b)  (!strcmp((a), (b)))
#define CFG_EQ_PATH(a, b)  (!strcmp((a), (b)))

static inline bool same_config(const struct sc_config *a,
			       const struct sc_config *b)
{
	return true
#define SC_VAR(N, f, K, ...) && CFG_EQ_##K(a->f, b->f)
#include "config_def.h"
#undef SC_VAR
	;
}

#endif
